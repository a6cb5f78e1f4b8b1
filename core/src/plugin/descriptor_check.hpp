#pragma once

#include <cppworker/plugin.h>

#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace cppworker::plugin {

struct RouteSpec {
    cppw_method method;
    std::string path;
    cppw_concurrency concurrency;
    uint32_t limit;
    bool blocking;
    double max_queue_time;  // < 0: none
};

// The hooks of a checked descriptor; absent optional hooks are null.
struct Hooks {
    cppw_init_fn init = nullptr;
    cppw_ready_fn ready = nullptr;
    cppw_workload_fn workload = nullptr;
    cppw_handle_fn handle = nullptr;
    cppw_metrics_fn metrics = nullptr;
    cppw_finalize_fn finalize = nullptr;
    cppw_benchmark_fn benchmark = nullptr;  // ABI 1.1
    cppw_cancel_fn cancel = nullptr;                // ABI 1.3
    cppw_release_state_fn release_state = nullptr;  // ABI 1.3
};

// The plugin's cppw_readiness (ABI 1.1), copied out.
struct ReadinessSpec {
    uint32_t benchmark_route = 0;
    uint32_t benchmark_runs = 8;
    uint32_t benchmark_concurrency = 10;
    std::vector<std::string> load_patterns;
    std::vector<std::string> error_patterns;
    std::vector<std::string> info_patterns;
    std::string health_path;  // empty: no health probe
};

// What the host takes from a descriptor that passed every check.
struct PluginShape {
    std::string name;
    std::string version;
    uint32_t abi_minor;
    std::vector<RouteSpec> routes;
    Hooks hooks;
    ReadinessSpec readiness;  // defaults when the plugin declares none
    std::string model_server_url;  // ABI 1.2: the default when MODEL_SERVER_URL is unset; may be empty
};

// "GET", "POST", ... for a cppw_method; empty for anything else.
std::string_view method_name(uint32_t method);

// Paths the core serves itself; a plugin may not claim them.
bool is_builtin_path(std::string_view path);

// Checks a descriptor without calling any of its code; the error names the field and, where it
// applies, the value found and the value expected.
std::variant<PluginShape, std::string> check_descriptor(const cppw_plugin_descriptor& d);

}  // namespace cppworker::plugin
