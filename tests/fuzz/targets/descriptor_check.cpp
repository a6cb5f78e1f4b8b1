// plugin::check_descriptor on descriptors built from the input: numbers from its bytes, every
// string a NUL-terminated piece of it, each struct allocated with exactly the size it declares
// (so ASan catches a field read past what a plugin of that ABI has). The verdict must match the
// ABI's rules as written here, and an accepted descriptor must be copied out faithfully.
#include "fuzz_support.hpp"

#include "plugin/descriptor_check.hpp"

#include <cmath>
#include <cstddef>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace cppworker_fuzz {
namespace {

namespace plugin = cppworker::plugin;

constexpr std::size_t descriptor_1_0 = offsetof(cppw_plugin_descriptor, finalize) + sizeof(cppw_finalize_fn);
constexpr std::size_t descriptor_1_1 = offsetof(cppw_plugin_descriptor, benchmark) + sizeof(cppw_benchmark_fn);
constexpr std::size_t descriptor_1_2 = offsetof(cppw_plugin_descriptor, model_server_url) + sizeof(const char*);
constexpr std::size_t route_1_0 = offsetof(cppw_route, max_queue_time) + sizeof(double);
constexpr std::size_t readiness_1_1 = offsetof(cppw_readiness, health_path) + sizeof(const char*);

// Distinct addresses for the hooks; never called.
cppw_status fake_init(const cppw_host_services*, void**, cppw_error_buf) { return CPPW_OK; }
int fake_ready(void*) { return 1; }
cppw_status fake_workload(void*, const cppw_request_info*, double*, cppw_error_buf) { return CPPW_OK; }
cppw_status fake_handle(void*, const cppw_request_info*, cppw_error_buf) { return CPPW_OK; }
void fake_metrics(void*, cppw_metrics_sink*) {}
void fake_finalize(void*) {}
cppw_status fake_benchmark(void*, uint32_t, cppw_payload_sink*) { return CPPW_OK; }

// Owns everything the descriptor points to.
struct Arena {
    std::vector<std::unique_ptr<char[]>> blocks;

    char* alloc(std::size_t n) {
        blocks.emplace_back(new char[n]);
        return blocks.back().get();
    }
    // A piece of the input as a C string of exactly its length + 1, or NULL.
    const char* string(Reader& in, bool null) {
        const auto piece = in.until_nul();
        if (null) return nullptr;
        char* s = alloc(piece.size() + 1);
        if (!piece.empty()) std::memcpy(s, piece.data(), piece.size());
        s[piece.size()] = '\0';
        return s;
    }
};

bool valid_path(const char* p) {
    if (p == nullptr || p[0] != '/') return false;
    for (; *p; ++p) {
        const auto c = static_cast<unsigned char>(*p);
        if (c <= 0x20 || c >= 0x7F || c == '?' || c == '#') return false;
    }
    return true;
}

bool builtin(std::string_view p) {
    for (auto b : {"/ping", "/healthz", "/readyz", "/metrics", "/session/create", "/session/get", "/session/health",
                   "/session/end", "/pyworker/update"})
        if (p == b) return true;
    return false;
}

std::vector<std::string> non_empty(const std::vector<const char*>& list) {
    std::vector<std::string> out;
    for (auto* p : list)
        if (p && *p) out.emplace_back(p);
    return out;
}

// The ABI 1.3 hooks, where the header has them (it gained them while this target was written).
template <class D>
void set_1_3_hooks(D& d, uint8_t hooks) {
    if constexpr (requires { d.cancel; d.release_state; }) {
        d.cancel = (hooks & 128) ? +[](void*, cppw_request_id) {} : nullptr;
        d.release_state = (hooks & 2) ? +[](void*, void*) {} : nullptr;
    }
}

template <class D, class Shape>
void check_1_3_hooks(const D& d, const Shape& shape) {
    if constexpr (requires { d.cancel; d.release_state; shape.hooks.cancel; shape.hooks.release_state; }) {
        const bool has_1_3 = d.abi_minor >= 3 && d.struct_size >= offsetof(D, release_state) + sizeof d.release_state;
        FUZZ_CHECK(shape.hooks.cancel == (has_1_3 ? d.cancel : nullptr));
        FUZZ_CHECK(shape.hooks.release_state == (has_1_3 ? d.release_state : nullptr));
    }
}

bool same_double(double a, double b) { return (std::isnan(a) && std::isnan(b)) || std::memcmp(&a, &b, sizeof a) == 0; }

}  // namespace

int run_descriptor_check(const uint8_t* data, std::size_t size) {
    Reader in(data, size);
    Arena arena;
    const uint8_t sel = in.byte();
    const uint8_t sel2 = in.byte();

    cppw_plugin_descriptor d{};
    d.magic = (sel & 1) ? in.u64() : CPPW_PLUGIN_MAGIC;
    d.abi_major = (sel & 2) ? in.u32() : CPPW_ABI_MAJOR;
    d.abi_minor = in.byte() % 5;
    d.struct_size = (sel & 4) ? in.u16() % (sizeof d + 16) : static_cast<uint32_t>(sizeof d);
    d.route_count = in.byte() % 9;
    d.route_struct_size = (sel & 8) ? in.byte() : static_cast<uint32_t>(sizeof(cppw_route));
    const uint8_t hooks = in.byte();
    d.init = (hooks & 1) ? fake_init : nullptr;
    d.ready = (hooks & 2) ? fake_ready : nullptr;
    d.workload = (hooks & 4) ? fake_workload : nullptr;
    d.handle = (hooks & 8) ? nullptr : fake_handle;
    d.metrics = (hooks & 16) ? fake_metrics : nullptr;
    d.finalize = (hooks & 32) ? fake_finalize : nullptr;
    d.benchmark = (hooks & 64) ? fake_benchmark : nullptr;
    set_1_3_hooks(d, hooks);
    d.name = arena.string(in, sel2 & 1);
    d.version = arena.string(in, sel2 & 2);
    d.model_server_url = arena.string(in, sel2 & 4);

    // Routes: route_struct_size apart, each slot that many bytes.
    std::vector<cppw_route> routes(d.route_count);
    for (auto& r : routes) {
        const uint8_t rs = in.byte();
        r.struct_size = (rs & 1) ? in.byte() : static_cast<uint32_t>(sizeof r);
        r.method = (rs & 2) ? in.u32() : in.byte() % 7;
        r.path = arena.string(in, rs & 4);
        r.concurrency = (rs & 8) ? in.u32() : in.byte() % 4;
        r.limit = in.byte() % 3;
        r.flags = (rs & 16) ? in.u32() : (rs & 32 ? CPPW_ROUTE_BLOCKING : 0);
        r.max_queue_time = (rs & 64) ? in.f64() : -1.0;
    }
    if (!(sel & 16) && d.route_count > 0) {
        const std::size_t slot = d.route_struct_size;
        char* block = arena.alloc(slot * routes.size());
        for (std::size_t i = 0; i < routes.size(); ++i) {
            std::memset(block + i * slot, 0xA5, slot);
            std::memcpy(block + i * slot, &routes[i], std::min(slot, sizeof(cppw_route)));
        }
        d.routes = reinterpret_cast<const cppw_route*>(block);
    }

    // Readiness, with pattern lists NULL-terminated (or, for a count of 255, running past 256).
    cppw_readiness r{};
    std::vector<const char*> patterns[3];
    if (sel & 32) {
        r.struct_size = (sel2 & 8) ? in.byte() : static_cast<uint32_t>(sizeof r);
        r.benchmark_route = in.byte() % 10;
        r.benchmark_runs = in.byte() % 3;
        r.benchmark_concurrency = in.byte() % 3;
        for (auto& list : patterns) {
            const uint8_t n = in.byte();
            const std::size_t count = n == 255 ? 257 : n % 6;
            for (std::size_t i = 0; i < count; ++i) list.push_back(arena.string(in, false));
        }
        const char* const** fields[3] = {&r.load_patterns, &r.error_patterns, &r.info_patterns};
        for (int i = 0; i < 3; ++i) {
            if (patterns[i].empty() && (sel2 & (16 << i))) continue;  // a NULL list
            auto* list = reinterpret_cast<const char**>(arena.alloc((patterns[i].size() + 1) * sizeof(const char*)));
            std::copy(patterns[i].begin(), patterns[i].end(), list);
            list[patterns[i].size()] = nullptr;
            *fields[i] = list;
        }
        r.health_path = arena.string(in, sel2 & 128);
        const std::size_t bytes = std::max<std::size_t>(sizeof r.struct_size, std::min<std::size_t>(r.struct_size, sizeof r));
        char* block = arena.alloc(bytes);
        std::memcpy(block, &r, bytes);
        d.readiness = reinterpret_cast<const cppw_readiness*>(block);
    }

    // The descriptor itself, as big as it says (at least up to struct_size, which is read first).
    const std::size_t descriptor_bytes =
        std::max(offsetof(cppw_plugin_descriptor, struct_size) + sizeof d.struct_size,
                 std::min<std::size_t>(d.struct_size, sizeof d));
    char* descriptor_block = arena.alloc(descriptor_bytes);
    std::memcpy(descriptor_block, &d, descriptor_bytes);
    const auto& placed = *reinterpret_cast<const cppw_plugin_descriptor*>(descriptor_block);

    std::variant<plugin::PluginShape, std::string> result;
    try {
        result = plugin::check_descriptor(placed);
    } catch (const std::bad_alloc&) {
        return 0;
    }

    // The verdict by the ABI's rules.
    bool ok = d.magic == CPPW_PLUGIN_MAGIC && d.abi_major == CPPW_ABI_MAJOR && d.struct_size >= descriptor_1_0 &&
              d.name && d.name[0] && d.handle && d.route_count > 0 && d.routes && d.route_struct_size >= route_1_0;
    std::set<std::pair<uint32_t, std::string>> seen;
    for (std::size_t i = 0; ok && i < routes.size(); ++i) {
        const auto& rt = routes[i];
        ok = rt.struct_size >= route_1_0 && rt.method >= 1 && rt.method <= 5 && valid_path(rt.path) &&
             rt.concurrency <= 2 && !(rt.concurrency == 2 && rt.limit == 0) && (rt.flags & ~CPPW_ROUTE_BLOCKING) == 0 &&
             !builtin(rt.path) && seen.emplace(rt.method, rt.path).second;
    }
    const bool has_1_1 = d.abi_minor >= 1 && d.struct_size >= descriptor_1_1;
    const bool has_1_2 = d.abi_minor >= 2 && d.struct_size >= descriptor_1_2;
    if (ok && has_1_1 && (sel & 32)) {
        ok = r.struct_size >= readiness_1_1 && r.benchmark_route < d.route_count &&
             patterns[0].size() <= 256 && patterns[1].size() <= 256 && patterns[2].size() <= 256 &&
             (r.health_path == nullptr || r.health_path[0] == '/');
    }

    const auto* shape = std::get_if<plugin::PluginShape>(&result);
    FUZZ_CHECK((shape != nullptr) == ok);
    if (!shape) {
        FUZZ_CHECK(!std::get<std::string>(result).empty());
        return 0;
    }
    FUZZ_CHECK(shape->name == d.name);
    FUZZ_CHECK(shape->version == (d.version ? d.version : ""));
    FUZZ_CHECK(shape->abi_minor == d.abi_minor);
    FUZZ_CHECK(shape->routes.size() == routes.size());
    for (std::size_t i = 0; i < routes.size(); ++i) {
        const auto& spec = shape->routes[i];
        FUZZ_CHECK(static_cast<uint32_t>(spec.method) == routes[i].method && spec.path == routes[i].path);
        FUZZ_CHECK(static_cast<uint32_t>(spec.concurrency) == routes[i].concurrency && spec.limit == routes[i].limit);
        FUZZ_CHECK(spec.blocking == ((routes[i].flags & CPPW_ROUTE_BLOCKING) != 0));
        FUZZ_CHECK(same_double(spec.max_queue_time, routes[i].max_queue_time));
    }
    FUZZ_CHECK(shape->hooks.init == d.init && shape->hooks.ready == d.ready && shape->hooks.workload == d.workload &&
               shape->hooks.handle == d.handle && shape->hooks.metrics == d.metrics &&
               shape->hooks.finalize == d.finalize);
    FUZZ_CHECK(shape->hooks.benchmark == (has_1_1 ? d.benchmark : nullptr));
    check_1_3_hooks(d, *shape);
    const auto& spec = shape->readiness;
    if (has_1_1 && (sel & 32)) {
        FUZZ_CHECK(spec.benchmark_route == r.benchmark_route);
        FUZZ_CHECK(spec.benchmark_runs == (r.benchmark_runs ? r.benchmark_runs : 8));
        FUZZ_CHECK(spec.benchmark_concurrency == (r.benchmark_concurrency ? r.benchmark_concurrency : 10));
        FUZZ_CHECK(spec.load_patterns == non_empty(patterns[0]));
        FUZZ_CHECK(spec.error_patterns == non_empty(patterns[1]));
        FUZZ_CHECK(spec.info_patterns == non_empty(patterns[2]));
        FUZZ_CHECK(spec.health_path == (r.health_path ? r.health_path : ""));
    } else {
        const plugin::ReadinessSpec defaults;
        FUZZ_CHECK(spec.benchmark_route == defaults.benchmark_route && spec.benchmark_runs == defaults.benchmark_runs &&
                   spec.benchmark_concurrency == defaults.benchmark_concurrency && spec.load_patterns.empty() &&
                   spec.error_patterns.empty() && spec.info_patterns.empty() && spec.health_path.empty());
    }
    FUZZ_CHECK(shape->model_server_url == (has_1_2 && d.model_server_url ? d.model_server_url : ""));
    return 0;
}

}  // namespace cppworker_fuzz
