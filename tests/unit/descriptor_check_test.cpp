// check_descriptor on descriptors built here: every rule, without a shared object in the way.
#include "plugin/descriptor_check.hpp"

#include <catch2/catch.hpp>

#include <cstddef>
#include <string>
#include <variant>

namespace {

using Catch::Contains;
using cppworker::plugin::check_descriptor;
using cppworker::plugin::PluginShape;

cppw_status handle(void*, const cppw_request_info*, cppw_error_buf) { return CPPW_OK; }
void finalize(void*) {}
void cancel(void*, cppw_request_id) {}
void release_state(void*, void*) {}

constexpr cppw_route route(cppw_method method, const char* path) {
    return cppw_route{sizeof(cppw_route), static_cast<uint32_t>(method), path, CPPW_CONCURRENCY_PARALLEL, 0, 0, -1.0};
}

// A valid ABI 1.0 descriptor over `routes`; each test breaks one field of it.
cppw_plugin_descriptor descriptor(const cppw_route* routes, uint32_t count) {
    return cppw_plugin_descriptor{CPPW_PLUGIN_MAGIC, CPPW_ABI_MAJOR, CPPW_ABI_MINOR, sizeof(cppw_plugin_descriptor),
                                  count, routes, sizeof(cppw_route), 0, "unit", "2.3.4",
                                  nullptr, nullptr, nullptr, &handle, nullptr, &finalize, nullptr, nullptr, nullptr,
                                  nullptr, nullptr};
}

template <std::size_t N>
cppw_plugin_descriptor descriptor(const cppw_route (&routes)[N]) {
    return descriptor(routes, static_cast<uint32_t>(N));
}

// The refusal, or an empty string when the descriptor passes (which no Contains matcher accepts).
std::string refusal(const cppw_plugin_descriptor& d) {
    const auto checked = check_descriptor(d);
    const auto* error = std::get_if<std::string>(&checked);
    return error ? *error : std::string();
}

constexpr std::size_t v1_0_descriptor_size = offsetof(cppw_plugin_descriptor, finalize) + sizeof(cppw_finalize_fn);
constexpr std::size_t v1_0_route_size = offsetof(cppw_route, max_queue_time) + sizeof(double);

}  // namespace

TEST_CASE("descriptor_check: a valid descriptor passes and yields its routes", "[descriptor]") {
    const cppw_route routes[] = {
        {sizeof(cppw_route), CPPW_METHOD_POST, "/generate", CPPW_CONCURRENCY_LIMIT, 2, CPPW_ROUTE_BLOCKING, 5.0},
        {sizeof(cppw_route), CPPW_METHOD_GET, "/generate", CPPW_CONCURRENCY_FIFO, 0, 0, -1.0},
    };
    const auto checked = check_descriptor(descriptor(routes));
    const auto* shape = std::get_if<PluginShape>(&checked);
    REQUIRE(shape != nullptr);
    CHECK(shape->name == "unit");
    CHECK(shape->version == "2.3.4");
    CHECK(shape->abi_minor == CPPW_ABI_MINOR);
    CHECK(shape->hooks.handle == &handle);
    CHECK(shape->hooks.finalize == &finalize);
    CHECK(shape->hooks.init == nullptr);
    REQUIRE(shape->routes.size() == 2);

    const auto& limited = shape->routes[0];
    CHECK(limited.method == CPPW_METHOD_POST);
    CHECK(limited.path == "/generate");
    CHECK(limited.concurrency == CPPW_CONCURRENCY_LIMIT);
    CHECK(limited.limit == 2);
    CHECK(limited.blocking);
    CHECK(limited.max_queue_time == 5.0);

    const auto& fifo = shape->routes[1];
    CHECK(fifo.method == CPPW_METHOD_GET);
    CHECK(fifo.concurrency == CPPW_CONCURRENCY_FIFO);
    CHECK_FALSE(fifo.blocking);
    CHECK(fifo.max_queue_time < 0);
}

TEST_CASE("descriptor_check: a descriptor of a newer minor, with larger structs, is accepted", "[descriptor]") {
    // What a plugin built against a later 1.x looks like: fields appended to both structs. Garbage
    // in the appended route field makes a host that strides by its own sizeof(cppw_route) fail.
    struct NewerRoute {
        cppw_route v1_0;
        uint64_t appended;
    };
    struct NewerDescriptor {
        cppw_plugin_descriptor v1_0;
        void (*appended_hook)(void*);
    };
    const NewerRoute routes[] = {
        {{sizeof(NewerRoute), CPPW_METHOD_POST, "/first", CPPW_CONCURRENCY_PARALLEL, 0, 0, -1.0}, ~uint64_t{0}},
        {{sizeof(NewerRoute), CPPW_METHOD_GET, "/second", CPPW_CONCURRENCY_PARALLEL, 0, 0, -1.0}, ~uint64_t{0}},
    };
    NewerDescriptor newer{descriptor(&routes[0].v1_0, 2), &finalize};
    newer.v1_0.abi_minor = CPPW_ABI_MINOR + 1;
    newer.v1_0.struct_size = sizeof(NewerDescriptor);
    newer.v1_0.route_struct_size = sizeof(NewerRoute);

    const auto checked = check_descriptor(newer.v1_0);
    const auto* shape = std::get_if<PluginShape>(&checked);
    REQUIRE(shape != nullptr);
    CHECK(shape->abi_minor == CPPW_ABI_MINOR + 1);
    REQUIRE(shape->routes.size() == 2);
    CHECK(shape->routes[0].path == "/first");
    CHECK(shape->routes[1].method == CPPW_METHOD_GET);
    CHECK(shape->routes[1].path == "/second");
}

TEST_CASE("descriptor_check: a bad magic is refused", "[descriptor]") {
    const cppw_route routes[] = {route(CPPW_METHOD_POST, "/run")};
    auto d = descriptor(routes);
    d.magic = 0;
    CHECK_THAT(refusal(d), Contains("bad magic: found 0x0000000000000000, expected 0x01524b5257505043"));
}

TEST_CASE("descriptor_check: another ABI major is refused", "[descriptor]") {
    const cppw_route routes[] = {route(CPPW_METHOD_POST, "/run")};
    auto d = descriptor(routes);
    const uint32_t major = GENERATE(uint32_t{CPPW_ABI_MAJOR - 1}, uint32_t{CPPW_ABI_MAJOR + 1});
    d.abi_major = major;
    CHECK_THAT(refusal(d), Contains("abi_major is " + std::to_string(major)) &&
                               Contains("ABI major " + std::to_string(CPPW_ABI_MAJOR)));
}

TEST_CASE("descriptor_check: a struct_size below ABI 1.0's is refused", "[descriptor]") {
    const cppw_route routes[] = {route(CPPW_METHOD_POST, "/run")};
    auto d = descriptor(routes);
    d.struct_size = offsetof(cppw_plugin_descriptor, finalize);
    CHECK_THAT(refusal(d), Contains("struct_size is " + std::to_string(offsetof(cppw_plugin_descriptor, finalize))) &&
                               Contains("at least " + std::to_string(v1_0_descriptor_size)));
}

TEST_CASE("descriptor_check: an empty name is refused", "[descriptor]") {
    const cppw_route routes[] = {route(CPPW_METHOD_POST, "/run")};
    auto d = descriptor(routes);
    d.name = GENERATE(as<const char*>{}, nullptr, "");
    CHECK_THAT(refusal(d), Contains("name is empty"));
}

TEST_CASE("descriptor_check: a missing handle hook is refused", "[descriptor]") {
    const cppw_route routes[] = {route(CPPW_METHOD_POST, "/run")};
    auto d = descriptor(routes);
    d.handle = nullptr;
    CHECK_THAT(refusal(d), Contains("handle is NULL"));
}

TEST_CASE("descriptor_check: a descriptor without routes is refused", "[descriptor]") {
    const cppw_route routes[] = {route(CPPW_METHOD_POST, "/run")};
    auto d = descriptor(routes);
    SECTION("no count") { d.route_count = 0; }
    SECTION("no array") { d.routes = nullptr; }
    CHECK_THAT(refusal(d), Contains("routes: the plugin declares no route"));
}

TEST_CASE("descriptor_check: a route stride below ABI 1.0's route size is refused", "[descriptor]") {
    const cppw_route routes[] = {route(CPPW_METHOD_POST, "/run")};
    auto d = descriptor(routes);
    d.route_struct_size = 16;
    CHECK_THAT(refusal(d), Contains("route_struct_size is 16") &&
                               Contains("at least " + std::to_string(v1_0_route_size)));
}

TEST_CASE("descriptor_check: a route struct_size below ABI 1.0's is refused", "[descriptor]") {
    cppw_route routes[] = {route(CPPW_METHOD_POST, "/run")};
    routes[0].struct_size = 16;
    CHECK_THAT(refusal(descriptor(routes)), Contains("routes[0].struct_size is 16") &&
                                                Contains("at least " + std::to_string(v1_0_route_size)));
}

TEST_CASE("descriptor_check: a route method outside cppw_method is refused", "[descriptor]") {
    cppw_route routes[] = {route(CPPW_METHOD_POST, "/run")};
    const uint32_t method = GENERATE(0u, uint32_t{CPPW_METHOD_PATCH + 1});
    routes[0].method = method;
    CHECK_THAT(refusal(descriptor(routes)),
               Contains("routes[0].method " + std::to_string(method) + " is not a cppw_method"));
}

TEST_CASE("descriptor_check: a malformed route path is refused", "[descriptor]") {
    cppw_route routes[] = {route(CPPW_METHOD_POST, "/run")};
    routes[0].path = GENERATE(as<const char*>{}, nullptr, "", "run", "/a b", "/a?b", "/a#b", "/a\tb", "/caf\xc3\xa9");
    CHECK_THAT(refusal(descriptor(routes)), Contains("routes[0].path must start with '/'"));
}

TEST_CASE("descriptor_check: a route concurrency outside cppw_concurrency is refused", "[descriptor]") {
    cppw_route routes[] = {route(CPPW_METHOD_POST, "/run")};
    routes[0].concurrency = CPPW_CONCURRENCY_LIMIT + 1;
    CHECK_THAT(refusal(descriptor(routes)),
               Contains("routes[0].concurrency " + std::to_string(CPPW_CONCURRENCY_LIMIT + 1)));
}

TEST_CASE("descriptor_check: CPPW_CONCURRENCY_LIMIT with limit 0 is refused", "[descriptor]") {
    cppw_route routes[] = {route(CPPW_METHOD_POST, "/run")};
    routes[0].concurrency = CPPW_CONCURRENCY_LIMIT;
    routes[0].limit = 0;
    CHECK_THAT(refusal(descriptor(routes)), Contains("routes[0].limit is 0 with CPPW_CONCURRENCY_LIMIT"));
}

TEST_CASE("descriptor_check: unknown route flag bits are refused", "[descriptor]") {
    cppw_route routes[] = {route(CPPW_METHOD_POST, "/run")};
    routes[0].flags = 0x4;
    CHECK_THAT(refusal(descriptor(routes)), Contains("routes[0].flags has unknown bits 0x4"));
}

TEST_CASE("descriptor_check: a repeated method and path is refused", "[descriptor]") {
    const cppw_route routes[] = {route(CPPW_METHOD_POST, "/run"), route(CPPW_METHOD_GET, "/run"),
                                 route(CPPW_METHOD_POST, "/run")};
    CHECK_THAT(refusal(descriptor(routes)), Contains("routes[2] repeats POST /run"));
}

TEST_CASE("descriptor_check: a path the worker serves itself is refused", "[descriptor]") {
    const char* builtin = GENERATE("/ping", "/healthz", "/readyz", "/metrics");
    const cppw_route routes[] = {route(CPPW_METHOD_POST, "/run"), route(CPPW_METHOD_GET, builtin)};
    CHECK_THAT(refusal(descriptor(routes)),
               Contains(std::string("routes[1].path ") + builtin + " is served by the worker itself"));
}

TEST_CASE("descriptor_check: readiness (ABI 1.1) is copied out and checked", "[descriptor]") {
    const cppw_route routes[] = {route(CPPW_METHOD_POST, "/a"), route(CPPW_METHOD_POST, "/b")};
    static constexpr const char* loaded[] = {"Connected", "", nullptr};
    static constexpr const char* errors[] = {"Error: DownloadError", nullptr};
    cppw_readiness r{sizeof(cppw_readiness), 1, 0, 3, loaded, errors, nullptr, "/health"};
    auto d = descriptor(routes);
    d.readiness = &r;

    const auto checked = check_descriptor(d);
    const auto* shape = std::get_if<PluginShape>(&checked);
    REQUIRE(shape != nullptr);
    CHECK(shape->readiness.benchmark_route == 1);
    CHECK(shape->readiness.benchmark_runs == 8);  // 0 means the default
    CHECK(shape->readiness.benchmark_concurrency == 3);
    CHECK(shape->readiness.load_patterns == std::vector<std::string>{"Connected"});  // empty patterns dropped
    CHECK(shape->readiness.error_patterns == std::vector<std::string>{"Error: DownloadError"});
    CHECK(shape->readiness.info_patterns.empty());
    CHECK(shape->readiness.health_path == "/health");

    r.benchmark_route = 2;
    CHECK_THAT(refusal(d), Contains("readiness.benchmark_route is 2, but there are 2 routes"));
    r.benchmark_route = 0;
    r.health_path = "health";
    CHECK_THAT(refusal(d), Contains("health_path must start with '/'"));
    r.health_path = nullptr;
    r.struct_size = 8;
    CHECK_THAT(refusal(d), Contains("readiness.struct_size is 8"));
}

TEST_CASE("descriptor_check: a pattern list without its NULL terminator is refused", "[descriptor]") {
    const cppw_route routes[] = {route(CPPW_METHOD_POST, "/a")};
    static const std::vector<const char*> endless(300, "x");
    cppw_readiness r{sizeof(cppw_readiness), 0, 0, 0, endless.data(), nullptr, nullptr, nullptr};
    auto d = descriptor(routes);
    d.readiness = &r;
    CHECK_THAT(refusal(d), Contains("readiness.load_patterns has no NULL terminator"));
}

TEST_CASE("descriptor_check: the 1.1 fields of a 1.0 descriptor are not read", "[descriptor]") {
    const cppw_route routes[] = {route(CPPW_METHOD_POST, "/a")};
    auto d = descriptor(routes);
    d.abi_minor = 0;
    d.struct_size = static_cast<uint32_t>(v1_0_descriptor_size);
    d.readiness = reinterpret_cast<const cppw_readiness*>(1);  // would crash if followed
    const auto checked = check_descriptor(d);
    REQUIRE(std::holds_alternative<PluginShape>(checked));
    CHECK(std::get<PluginShape>(checked).hooks.benchmark == nullptr);
}

TEST_CASE("descriptor_check: the model server default (ABI 1.2) is copied out, and not read from older plugins",
          "[descriptor]") {
    const cppw_route routes[] = {route(CPPW_METHOD_POST, "/a")};
    auto d = descriptor(routes);
    d.model_server_url = "http://127.0.0.1:5001";
    auto checked = check_descriptor(d);
    REQUIRE(std::holds_alternative<PluginShape>(checked));
    CHECK(std::get<PluginShape>(checked).model_server_url == "http://127.0.0.1:5001");

    d.abi_minor = 1;
    d.struct_size = static_cast<uint32_t>(offsetof(cppw_plugin_descriptor, model_server_url));
    d.model_server_url = reinterpret_cast<const char*>(1);  // would crash if followed
    checked = check_descriptor(d);
    REQUIRE(std::holds_alternative<PluginShape>(checked));
    CHECK(std::get<PluginShape>(checked).model_server_url.empty());
}

TEST_CASE("descriptor_check: the cancel and release_state hooks (ABI 1.3) are taken, and not read from older plugins",
          "[descriptor]") {
    const cppw_route routes[] = {route(CPPW_METHOD_POST, "/x")};
    auto d = descriptor(routes);
    d.cancel = &cancel;
    d.release_state = &release_state;
    auto checked = check_descriptor(d);
    REQUIRE(std::holds_alternative<PluginShape>(checked));
    CHECK(std::get<PluginShape>(checked).hooks.cancel == &cancel);
    CHECK(std::get<PluginShape>(checked).hooks.release_state == &release_state);

    // A 1.2 plugin's descriptor ends before them: whatever lies there is never read.
    d.abi_minor = 2;
    d.struct_size = static_cast<uint32_t>(offsetof(cppw_plugin_descriptor, cancel));
    checked = check_descriptor(d);
    REQUIRE(std::holds_alternative<PluginShape>(checked));
    CHECK(std::get<PluginShape>(checked).hooks.cancel == nullptr);
    CHECK(std::get<PluginShape>(checked).hooks.release_state == nullptr);
}
