/* Every size and field offset of the ABI structs, as one list that the C and the C++ test
 * translation units each evaluate with their own compiler; the test compares the two results. */
#ifndef CPPWORKER_TESTS_ABI_LAYOUT_H
#define CPPWORKER_TESTS_ABI_LAYOUT_H

#include <cppworker/plugin.h>

#include <stddef.h>

#define CPPW_ABI_LAYOUT(X)                                  \
    X(sizeof(cppw_str))                                     \
    X(offsetof(cppw_str, size))                             \
    X(sizeof(cppw_status))                                  \
    X(sizeof(cppw_error_buf))                               \
    X(offsetof(cppw_error_buf, capacity))                   \
    X(sizeof(cppw_header))                                  \
    X(offsetof(cppw_header, value))                         \
    X(sizeof(cppw_route))                                   \
    X(offsetof(cppw_route, method))                         \
    X(offsetof(cppw_route, path))                           \
    X(offsetof(cppw_route, concurrency))                    \
    X(offsetof(cppw_route, limit))                          \
    X(offsetof(cppw_route, flags))                          \
    X(offsetof(cppw_route, max_queue_time))                 \
    X(sizeof(cppw_request_info))                            \
    X(offsetof(cppw_request_info, route_index))             \
    X(offsetof(cppw_request_info, id))                      \
    X(offsetof(cppw_request_info, path))                    \
    X(offsetof(cppw_request_info, query))                   \
    X(offsetof(cppw_request_info, payload))                 \
    X(offsetof(cppw_request_info, session_id))              \
    X(offsetof(cppw_request_info, request_state))           \
    X(sizeof(cppw_response))                                \
    X(offsetof(cppw_response, status))                      \
    X(offsetof(cppw_response, flags))                       \
    X(offsetof(cppw_response, content_type))                \
    X(offsetof(cppw_response, headers))                     \
    X(offsetof(cppw_response, header_count))                \
    X(offsetof(cppw_response, body))                        \
    X(sizeof(cppw_metric))                                  \
    X(offsetof(cppw_metric, type))                          \
    X(offsetof(cppw_metric, name))                          \
    X(offsetof(cppw_metric, help))                          \
    X(offsetof(cppw_metric, value))                         \
    X(sizeof(cppw_host_services))                           \
    X(offsetof(cppw_host_services, abi_major))              \
    X(offsetof(cppw_host_services, abi_minor))              \
    X(offsetof(cppw_host_services, host))                   \
    X(offsetof(cppw_host_services, log))                    \
    X(offsetof(cppw_host_services, config_get))             \
    X(offsetof(cppw_host_services, respond))                \
    X(offsetof(cppw_host_services, stream_begin))           \
    X(offsetof(cppw_host_services, stream_write))           \
    X(offsetof(cppw_host_services, stream_wait))            \
    X(offsetof(cppw_host_services, stream_end))             \
    X(offsetof(cppw_host_services, is_cancelled))           \
    X(offsetof(cppw_host_services, forward))                \
    X(offsetof(cppw_host_services, payload))                \
    X(offsetof(cppw_host_services, json_get))               \
    X(sizeof(cppw_json_value))                              \
    X(offsetof(cppw_json_value, type))                      \
    X(offsetof(cppw_json_value, boolean))                   \
    X(offsetof(cppw_json_value, is_integer))                \
    X(offsetof(cppw_json_value, integer))                   \
    X(offsetof(cppw_json_value, number))                    \
    X(offsetof(cppw_json_value, text_size))                 \
    X(sizeof(cppw_readiness))                               \
    X(offsetof(cppw_readiness, benchmark_runs))             \
    X(offsetof(cppw_readiness, load_patterns))              \
    X(offsetof(cppw_readiness, health_path))                \
    X(sizeof(cppw_upstream_head))                           \
    X(offsetof(cppw_upstream_head, status))                 \
    X(offsetof(cppw_upstream_head, streaming))              \
    X(offsetof(cppw_upstream_head, content_type))           \
    X(offsetof(cppw_upstream_head, headers))                \
    X(offsetof(cppw_upstream_head, header_count))           \
    X(sizeof(cppw_forward))                                 \
    X(offsetof(cppw_forward, method))                       \
    X(offsetof(cppw_forward, target))                       \
    X(offsetof(cppw_forward, content_type))                 \
    X(offsetof(cppw_forward, headers))                      \
    X(offsetof(cppw_forward, header_count))                 \
    X(offsetof(cppw_forward, body))                         \
    X(offsetof(cppw_forward, mode))                         \
    X(offsetof(cppw_forward, user))                         \
    X(offsetof(cppw_forward, on_head))                      \
    X(offsetof(cppw_forward, on_data))                      \
    X(offsetof(cppw_forward, on_done))                      \
    X(offsetof(cppw_host_services, metric))                 \
    X(offsetof(cppw_host_services, json_get))               \
    X(offsetof(cppw_host_services, attach_state))           \
    X(offsetof(cppw_host_services, timer_start))            \
    X(sizeof(cppw_plugin_descriptor))                       \
    X(offsetof(cppw_plugin_descriptor, abi_major))          \
    X(offsetof(cppw_plugin_descriptor, abi_minor))          \
    X(offsetof(cppw_plugin_descriptor, struct_size))        \
    X(offsetof(cppw_plugin_descriptor, route_count))        \
    X(offsetof(cppw_plugin_descriptor, routes))             \
    X(offsetof(cppw_plugin_descriptor, route_struct_size))  \
    X(offsetof(cppw_plugin_descriptor, reserved))           \
    X(offsetof(cppw_plugin_descriptor, name))               \
    X(offsetof(cppw_plugin_descriptor, version))            \
    X(offsetof(cppw_plugin_descriptor, init))               \
    X(offsetof(cppw_plugin_descriptor, ready))              \
    X(offsetof(cppw_plugin_descriptor, workload))           \
    X(offsetof(cppw_plugin_descriptor, handle))             \
    X(offsetof(cppw_plugin_descriptor, metrics))            \
    X(offsetof(cppw_plugin_descriptor, finalize))           \
    X(offsetof(cppw_plugin_descriptor, readiness))          \
    X(offsetof(cppw_plugin_descriptor, benchmark))          \
    X(offsetof(cppw_plugin_descriptor, model_server_url))   \
    X(offsetof(cppw_plugin_descriptor, cancel))             \
    X(offsetof(cppw_plugin_descriptor, release_state))

#ifdef __cplusplus
extern "C" {
#endif

/* The list as the C++ compiler sees it, defined in abi_cpp.cpp. */
extern const size_t cppw_abi_cpp_layout[];
extern const size_t cppw_abi_cpp_layout_count;

#ifdef __cplusplus
}
#endif

#endif
