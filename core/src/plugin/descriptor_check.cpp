#include "plugin/descriptor_check.hpp"

#include <fmt/format.h>

#include <cstddef>
#include <cstring>
#include <optional>
#include <set>
#include <utility>

namespace cppworker::plugin {
namespace {

// The smallest structs a 1.x plugin can have: those of ABI 1.0. Later minors only append.
constexpr std::size_t min_descriptor_size = offsetof(cppw_plugin_descriptor, finalize) + sizeof(cppw_finalize_fn);
constexpr std::size_t min_route_size = offsetof(cppw_route, max_queue_time) + sizeof(double);
constexpr std::size_t v1_1_descriptor_size = offsetof(cppw_plugin_descriptor, benchmark) + sizeof(cppw_benchmark_fn);
constexpr std::size_t v1_2_descriptor_size =
    offsetof(cppw_plugin_descriptor, model_server_url) + sizeof(const char*);
constexpr std::size_t v1_3_descriptor_size =
    offsetof(cppw_plugin_descriptor, release_state) + sizeof(cppw_release_state_fn);
constexpr std::size_t min_readiness_size = offsetof(cppw_readiness, health_path) + sizeof(const char*);
// A pattern list longer than this is a missing NULL terminator, not a real list.
constexpr std::size_t max_patterns = 256;

std::variant<std::vector<std::string>, std::string> read_patterns(const char* const* list, const char* field) {
    std::vector<std::string> out;
    if (list == nullptr) return out;
    for (std::size_t i = 0; list[i] != nullptr; ++i) {
        if (i == max_patterns) return fmt::format("readiness.{} has no NULL terminator within {} entries", field, max_patterns);
        if (list[i][0] != '\0') out.emplace_back(list[i]);
    }
    return out;
}

std::optional<std::string> check_readiness(const cppw_readiness& r, std::size_t route_count, ReadinessSpec& out) {
    if (r.struct_size < min_readiness_size) {
        return fmt::format("readiness.struct_size is {}, at least {} expected", r.struct_size, min_readiness_size);
    }
    if (r.benchmark_route >= route_count) {
        return fmt::format("readiness.benchmark_route is {}, but there are {} routes", r.benchmark_route, route_count);
    }
    out.benchmark_route = r.benchmark_route;
    if (r.benchmark_runs != 0) out.benchmark_runs = r.benchmark_runs;
    if (r.benchmark_concurrency != 0) out.benchmark_concurrency = r.benchmark_concurrency;
    const std::pair<const char* const*, std::vector<std::string>*> lists[] = {
        {r.load_patterns, &out.load_patterns}, {r.error_patterns, &out.error_patterns}, {r.info_patterns, &out.info_patterns}};
    const char* names[] = {"load_patterns", "error_patterns", "info_patterns"};
    for (std::size_t i = 0; i < 3; ++i) {
        auto read = read_patterns(lists[i].first, names[i]);
        if (auto* err = std::get_if<std::string>(&read)) return std::move(*err);
        *lists[i].second = std::move(std::get<std::vector<std::string>>(read));
    }
    if (r.health_path != nullptr) {
        if (r.health_path[0] != '/') return std::string("readiness.health_path must start with '/'");
        out.health_path = r.health_path;
    }
    return std::nullopt;
}

bool valid_path(const char* p) {
    if (p == nullptr || p[0] != '/') return false;
    for (; *p; ++p) {
        const auto c = static_cast<unsigned char>(*p);
        if (c <= 0x20 || c >= 0x7f || c == '?' || c == '#') return false;
    }
    return true;
}

std::variant<RouteSpec, std::string> check_route(const cppw_route& r, uint32_t i) {
    if (r.struct_size < min_route_size) {
        return fmt::format("routes[{}].struct_size is {}, at least {} expected", i, r.struct_size, min_route_size);
    }
    if (method_name(r.method).empty()) return fmt::format("routes[{}].method {} is not a cppw_method", i, r.method);
    if (!valid_path(r.path)) {
        return fmt::format("routes[{}].path must start with '/' and hold no spaces, '?' or '#'", i);
    }
    if (r.concurrency > CPPW_CONCURRENCY_LIMIT) {
        return fmt::format("routes[{}].concurrency {} is not a cppw_concurrency", i, r.concurrency);
    }
    if (r.concurrency == CPPW_CONCURRENCY_LIMIT && r.limit == 0) {
        return fmt::format("routes[{}].limit is 0 with CPPW_CONCURRENCY_LIMIT, at least 1 expected", i);
    }
    if (const uint32_t unknown = r.flags & ~CPPW_ROUTE_BLOCKING) {
        return fmt::format("routes[{}].flags has unknown bits 0x{:x}", i, unknown);
    }
    if (is_builtin_path(r.path)) return fmt::format("routes[{}].path {} is served by the worker itself", i, r.path);
    return RouteSpec{static_cast<cppw_method>(r.method), r.path, static_cast<cppw_concurrency>(r.concurrency),
                     r.limit, (r.flags & CPPW_ROUTE_BLOCKING) != 0, r.max_queue_time};
}

}  // namespace

std::string_view method_name(uint32_t method) {
    switch (method) {
    case CPPW_METHOD_GET: return "GET";
    case CPPW_METHOD_POST: return "POST";
    case CPPW_METHOD_PUT: return "PUT";
    case CPPW_METHOD_DELETE: return "DELETE";
    case CPPW_METHOD_PATCH: return "PATCH";
    default: return {};
    }
}

bool is_builtin_path(std::string_view path) {
    return path == "/ping" || path == "/healthz" || path == "/readyz" || path == "/metrics" ||
           path == "/session/create" || path == "/session/get" || path == "/session/health" ||
           path == "/session/end" || path == "/pyworker/update";
}

std::variant<PluginShape, std::string> check_descriptor(const cppw_plugin_descriptor& d) {
    if (d.magic != CPPW_PLUGIN_MAGIC) {
        return fmt::format("bad magic: found 0x{:016x}, expected 0x{:016x} (not a cppworker plugin?)", d.magic,
                           CPPW_PLUGIN_MAGIC);
    }
    if (d.abi_major != CPPW_ABI_MAJOR) {
        return fmt::format("abi_major is {}, this worker speaks ABI major {}: rebuild the plugin against it",
                           d.abi_major, CPPW_ABI_MAJOR);
    }
    if (d.struct_size < min_descriptor_size) {
        return fmt::format("struct_size is {}, at least {} expected for ABI {}.x", d.struct_size,
                           min_descriptor_size, CPPW_ABI_MAJOR);
    }
    if (d.name == nullptr || d.name[0] == '\0') return std::string("name is empty");
    if (d.handle == nullptr) return std::string("handle is NULL, but it is the one required hook");
    if (d.route_count == 0 || d.routes == nullptr) return std::string("routes: the plugin declares no route");
    if (d.route_struct_size < min_route_size) {
        return fmt::format("route_struct_size is {}, at least {} expected", d.route_struct_size, min_route_size);
    }

    PluginShape shape{d.name, d.version ? d.version : "", d.abi_minor, {}, {}, {}, {}};
    std::set<std::pair<uint32_t, std::string>> seen;
    const auto* base = reinterpret_cast<const unsigned char*>(d.routes);
    for (uint32_t i = 0; i < d.route_count; ++i) {
        // Routes are route_struct_size apart; copy out only the 1.0 fields we read.
        cppw_route r{};
        std::memcpy(&r, base + std::size_t{i} * d.route_struct_size, min_route_size);
        auto checked = check_route(r, i);
        if (auto* err = std::get_if<std::string>(&checked)) return std::move(*err);
        auto& spec = std::get<RouteSpec>(checked);
        if (!seen.emplace(r.method, spec.path).second) {
            return fmt::format("routes[{}] repeats {} {}", i, method_name(r.method), spec.path);
        }
        shape.routes.push_back(std::move(spec));
    }
    shape.hooks = Hooks{d.init, d.ready, d.workload, d.handle, d.metrics, d.finalize, nullptr, nullptr, nullptr};
    // The 1.1 fields exist only in descriptors that are big enough to hold them.
    if (d.abi_minor >= 1 && d.struct_size >= v1_1_descriptor_size) {
        shape.hooks.benchmark = d.benchmark;
        if (d.readiness != nullptr) {
            if (auto err = check_readiness(*d.readiness, shape.routes.size(), shape.readiness)) return std::move(*err);
        }
    }
    if (d.abi_minor >= 2 && d.struct_size >= v1_2_descriptor_size && d.model_server_url != nullptr) {
        shape.model_server_url = d.model_server_url;
    }
    if (d.abi_minor >= 3 && d.struct_size >= v1_3_descriptor_size) {
        shape.hooks.cancel = d.cancel;
        shape.hooks.release_state = d.release_state;
    }
    return shape;
}

}  // namespace cppworker::plugin
