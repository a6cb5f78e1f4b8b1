// plugin.h and then the C++ SDK compiled as C++, with the same layout checks as the C side, and
// the list of sizes and offsets exported for the C side to compare against its own.
#include <cppworker/plugin.h>
#include <cppworker/plugin.hpp>

#include "abi_layout.h"

#include <cstddef>

static_assert(offsetof(cppw_plugin_descriptor, magic) == 0);
static_assert(offsetof(cppw_plugin_descriptor, abi_major) == 8);
static_assert(offsetof(cppw_plugin_descriptor, abi_minor) == 12);
static_assert(offsetof(cppw_plugin_descriptor, struct_size) == 16);

// Plugins declare their routes as `static constexpr` arrays, so route() must stay constexpr.
constexpr cppw_route limited = cppworker::route(
    CPPW_METHOD_POST, "/generate", {.concurrency = CPPW_CONCURRENCY_LIMIT, .limit = 2, .blocking = true});
static_assert(limited.struct_size == sizeof(cppw_route));
static_assert(limited.method == CPPW_METHOD_POST);
static_assert(limited.concurrency == CPPW_CONCURRENCY_LIMIT && limited.limit == 2);
static_assert(limited.flags == CPPW_ROUTE_BLOCKING);
static_assert(limited.max_queue_time < 0);

// The C helpers are valid C++20 too (designated initializers in declaration order).
static cppw_status cpp_handle(void*, const cppw_request_info*, cppw_error_buf) { return CPPW_OK; }
static constexpr cppw_route helper_routes[] = {
    CPPW_ROUTE(CPPW_METHOD_POST, "/run"),
    CPPW_ROUTE_WITH(CPPW_METHOD_GET, "/slow", CPPW_CONCURRENCY_LIMIT, 2, CPPW_ROUTE_BLOCKING, 30.0),
};
// GCC names every hook a C++ designated initializer leaves out; here they are left out on purpose.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
static constexpr cppw_plugin_descriptor made_with_helpers =
    CPPW_PLUGIN("abi_cpp", "1.0.0", helper_routes, .handle = cpp_handle);
#pragma GCC diagnostic pop
static_assert(made_with_helpers.route_count == 2 && made_with_helpers.abi_minor == CPPW_ABI_MINOR);
static_assert(helper_routes[0].concurrency == CPPW_CONCURRENCY_PARALLEL && helper_routes[0].max_queue_time < 0);
static_assert(helper_routes[1].limit == 2 && helper_routes[1].flags == CPPW_ROUTE_BLOCKING);

#define ABI_CPP_ENTRY(expr) expr,
extern "C" const std::size_t cppw_abi_cpp_layout[] = {CPPW_ABI_LAYOUT(ABI_CPP_ENTRY)};
extern "C" const std::size_t cppw_abi_cpp_layout_count = sizeof cppw_abi_cpp_layout / sizeof cppw_abi_cpp_layout[0];
