// LoadedPlugin over real shared objects: the zoo in tests/plugins, each breaking one rule, and the
// two example plugins, which break none.
#include "plugin/host.hpp"
#include "plugin/loaded_plugin.hpp"
#include "requests/request_registry.hpp"

#include <catch2/catch.hpp>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <cstddef>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>

namespace {

cppworker::requests::Events taken(cppworker::requests::PendingRequest& r) {
    cppworker::requests::Events events;
    r.take_events(events);
    return events;
}

using Catch::Contains;
using cppworker::plugin::LoadedPlugin;
using cppworker::plugin::PluginError;

// What main() builds around a plugin, declared in the order that lets the plugin's finalize still
// use the host and its registry.
struct Worker {
    Worker(std::string name, const char* path) : host(std::move(name), {}, registry), plugin(LoadedPlugin::load(path)) {}

    cppworker::requests::RequestRegistry registry{1 << 20};
    cppworker::plugin::Host host;
    std::unique_ptr<LoadedPlugin> plugin;
};

cppw_request_info request_info(cppw_request_id id, uint32_t route_index, std::string_view path,
                               std::string_view payload) {
    return cppw_request_info{sizeof(cppw_request_info), route_index, id, {path.data(), path.size()}, {"", 0},
                             {payload.data(), payload.size()}, {"", 0}, nullptr};
}

// Sends what spdlog's default logger writes into a string for as long as it lives.
class CapturedLog {
public:
    CapturedLog() : previous_(spdlog::default_logger()) {
        spdlog::set_default_logger(
            std::make_shared<spdlog::logger>("captured", std::make_shared<spdlog::sinks::ostream_sink_st>(text_)));
    }
    ~CapturedLog() { spdlog::set_default_logger(previous_); }
    CapturedLog(const CapturedLog&) = delete;
    CapturedLog& operator=(const CapturedLog&) = delete;

    std::string text() const { return text_.str(); }

private:
    std::ostringstream text_;
    std::shared_ptr<spdlog::logger> previous_;
};

}  // namespace

TEST_CASE("loader: a path with no file behind it is refused", "[loader]") {
    const auto load = [] { return LoadedPlugin::load("/nonexistent/zoo_nothing.so"); };
    REQUIRE_THROWS_AS(load(), PluginError);
    REQUIRE_THROWS_WITH(load(), Contains("/nonexistent/zoo_nothing.so") && Contains("no such file"));
}

TEST_CASE("loader: a file that is not a shared object is refused", "[loader]") {
    const auto load = [] { return LoadedPlugin::load(__FILE__); };
    REQUIRE_THROWS_AS(load(), PluginError);
    REQUIRE_THROWS_WITH(load(), Contains(__FILE__) && Contains("cannot be loaded"));
}

TEST_CASE("loader: a shared object without the descriptor symbol is refused", "[loader]") {
    const auto load = [] { return LoadedPlugin::load(ZOO_NO_DESCRIPTOR); };
    REQUIRE_THROWS_AS(load(), PluginError);
    REQUIRE_THROWS_WITH(load(), Contains("exports no 'cppworker_plugin' symbol"));
}

TEST_CASE("loader: a descriptor with a bad magic is refused", "[loader]") {
    const auto load = [] { return LoadedPlugin::load(ZOO_BAD_MAGIC); };
    REQUIRE_THROWS_AS(load(), PluginError);
    REQUIRE_THROWS_WITH(load(), Contains(ZOO_BAD_MAGIC) && Contains("bad magic") &&
                                    Contains("found 0x0252524b57505043") && Contains("expected 0x01524b5257505043"));
}

TEST_CASE("loader: a plugin built for a newer ABI major is refused", "[loader]") {
    const auto load = [] { return LoadedPlugin::load(ZOO_NEWER_MAJOR); };
    REQUIRE_THROWS_AS(load(), PluginError);
    REQUIRE_THROWS_WITH(load(), Contains("abi_major is " + std::to_string(CPPW_ABI_MAJOR + 1)) &&
                                    Contains("ABI major " + std::to_string(CPPW_ABI_MAJOR)));
}

TEST_CASE("loader: a descriptor smaller than ABI 1.0's is refused", "[loader]") {
    const auto load = [] { return LoadedPlugin::load(ZOO_SMALL_DESCRIPTOR); };
    constexpr std::size_t v1_0_size = offsetof(cppw_plugin_descriptor, finalize) + sizeof(cppw_finalize_fn);
    REQUIRE_THROWS_AS(load(), PluginError);
    REQUIRE_THROWS_WITH(load(), Contains("struct_size is " + std::to_string(offsetof(cppw_plugin_descriptor, route_count))) &&
                                    Contains("at least " + std::to_string(v1_0_size) + " expected"));
}

TEST_CASE("loader: a plugin without a handle hook is refused", "[loader]") {
    const auto load = [] { return LoadedPlugin::load(ZOO_MISSING_HANDLE); };
    REQUIRE_THROWS_AS(load(), PluginError);
    REQUIRE_THROWS_WITH(load(), Contains("handle is NULL"));
}

TEST_CASE("loader: a plugin without routes is refused", "[loader]") {
    const auto load = [] { return LoadedPlugin::load(ZOO_NO_ROUTES); };
    REQUIRE_THROWS_AS(load(), PluginError);
    REQUIRE_THROWS_WITH(load(), Contains("routes: the plugin declares no route"));
}

TEST_CASE("loader: a plugin declaring one method and path twice is refused", "[loader]") {
    const auto load = [] { return LoadedPlugin::load(ZOO_DUPLICATE_ROUTE); };
    REQUIRE_THROWS_AS(load(), PluginError);
    REQUIRE_THROWS_WITH(load(), Contains("routes[2] repeats POST /run"));
}

TEST_CASE("loader: a route path without a leading slash is refused", "[loader]") {
    const auto load = [] { return LoadedPlugin::load(ZOO_BAD_ROUTE_PATH); };
    REQUIRE_THROWS_AS(load(), PluginError);
    REQUIRE_THROWS_WITH(load(), Contains("routes[0].path must start with '/'"));
}

TEST_CASE("loader: a plugin claiming a path the worker serves is refused", "[loader]") {
    const auto load = [] { return LoadedPlugin::load(ZOO_BUILTIN_ROUTE); };
    REQUIRE_THROWS_AS(load(), PluginError);
    REQUIRE_THROWS_WITH(load(), Contains("routes[1].path /ping is served by the worker itself"));
}

TEST_CASE("loader: plugins that break only a runtime rule pass the descriptor check", "[loader]") {
    const auto [path, name, route] = GENERATE(table<const char*, const char*, const char*>({
        {ZOO_INIT_FAILS, "zoo_init_fails", "/run"},
        {ZOO_INIT_THROWS, "zoo_init_throws", "/run"},
        {ZOO_HANDLE_THROWS_RAW, "zoo_handle_throws_raw", "/run"},
        {ZOO_COMPLETES_TWICE, "zoo_completes_twice", "/run"},
        {ZOO_NEVER_COMPLETES, "zoo_never_completes", "/hang"},
    }));
    CAPTURE(path);
    const auto plugin = LoadedPlugin::load(path);
    const auto& shape = plugin->shape();
    CHECK(shape.name == name);
    REQUIRE(shape.routes.size() == 1);
    CHECK(shape.routes[0].method == CPPW_METHOD_POST);
    CHECK(shape.routes[0].path == route);
}

TEST_CASE("loader: an init that fails stops the plugin with its message", "[loader]") {
    Worker w("zoo_init_fails", ZOO_INIT_FAILS);
    REQUIRE_THROWS_AS(w.plugin->init(w.host), PluginError);
    REQUIRE_THROWS_WITH(w.plugin->init(w.host),
                        Contains("zoo_init_fails") && Contains("init failed") && Contains("model weights missing"));
    CHECK_FALSE(w.plugin->ready());
}

TEST_CASE("loader: an exception thrown across the C ABI by init is contained", "[loader]") {
    Worker w("zoo_init_throws", ZOO_INIT_THROWS);
    REQUIRE_THROWS_AS(w.plugin->init(w.host), PluginError);
    REQUIRE_THROWS_WITH(w.plugin->init(w.host), Contains("init failed") && Contains("boom in init"));
    CHECK_FALSE(w.plugin->ready());
}

TEST_CASE("loader: an exception thrown across the C ABI by handle is contained", "[loader]") {
    Worker w("zoo_handle_throws_raw", ZOO_HANDLE_THROWS_RAW);
    w.plugin->init(w.host);
    const auto request = w.registry.create();
    const auto error = w.plugin->handle(request_info(request->id(), 0, "/run", "{}"));
    REQUIRE(error.has_value());
    CHECK_THAT(*error, Contains("boom in handle"));
}

TEST_CASE("loader: a second completion of a request does nothing and says so", "[loader]") {
    Worker w("zoo_completes_twice", ZOO_COMPLETES_TWICE);
    w.plugin->init(w.host);
    const auto request = w.registry.create();
    // As the request's owner does (pipeline/request_scope.hpp): it leaves the registry once complete.
    request->on_completed([&w, id = request->id()] { w.registry.forget(id); });
    CapturedLog log;
    REQUIRE_FALSE(w.plugin->handle(request_info(request->id(), 0, "/run", "{}")).has_value());

    const auto events = taken(*request);
    REQUIRE(events.size() == 1);
    CHECK(events[0].answer.body == R"({"answer": 1})");
    CHECK(w.registry.size() == 0);
    CHECK_THAT(log.text(), Contains("second respond returned " + std::to_string(CPPW_UNKNOWN_REQUEST)));
}

TEST_CASE("loader: hello_c loads with its routes and answers through the host", "[loader]") {
    Worker w("hello_c", HELLO_C);
    const auto& shape = w.plugin->shape();
    CHECK(shape.name == "hello_c");
    CHECK(shape.version == "1.1.0");
    CHECK(shape.abi_minor == CPPW_ABI_MINOR);
    REQUIRE(shape.routes.size() == 2);
    CHECK(shape.routes[0].method == CPPW_METHOD_POST);
    CHECK(shape.routes[0].path == "/increment");
    CHECK(shape.routes[1].method == CPPW_METHOD_GET);
    CHECK(shape.routes[1].path == "/value");

    w.plugin->init(w.host);
    CHECK(w.plugin->ready());
    const auto request = w.registry.create();
    REQUIRE_FALSE(w.plugin->handle(request_info(request->id(), 0, "/increment", R"({"amount": 2})")).has_value());
    const auto events = taken(*request);
    REQUIRE(events.size() == 1);
    CHECK(events[0].answer.status == 200);
    CHECK(events[0].answer.body == R"({"value": 2})");

    // It sizes and validates in its workload hook, through the host's json_get.
    double workload = 0;
    CHECK_FALSE(w.plugin->workload(request_info(request->id(), 0, "/increment", R"({"amount": 2})"), workload));
    CHECK(workload == 1.0);
    const auto refused = w.plugin->workload(request_info(request->id(), 0, "/increment", R"({"amount": "2"})"), workload);
    REQUIRE(refused.has_value());
    CHECK(*refused == R"(payload needs "amount" as an integer)");
}

TEST_CASE("loader: hello_world loads with its routes", "[loader]") {
    const auto plugin = LoadedPlugin::load(HELLO_WORLD);
    const auto& shape = plugin->shape();
    CHECK(shape.name == "hello_world");
    CHECK(shape.version == "1.1.0");
    REQUIRE(shape.routes.size() == 3);
    CHECK(shape.routes[0].method == CPPW_METHOD_POST);
    CHECK(shape.routes[0].path == "/increment");
    CHECK(shape.routes[1].method == CPPW_METHOD_GET);
    CHECK(shape.routes[1].path == "/value");
    CHECK(shape.routes[2].method == CPPW_METHOD_POST);
    CHECK(shape.routes[2].path == "/generate");
    // ABI 1.1: a benchmark on /generate, readiness through the ready hook (no log patterns).
    CHECK(shape.abi_minor == CPPW_ABI_MINOR);
    CHECK(shape.hooks.benchmark != nullptr);
    CHECK(shape.readiness.benchmark_route == 2);
    CHECK(shape.readiness.load_patterns.empty());
}

TEST_CASE("loader: a plugin built against ABI 1.0 loads, and nothing past its descriptor is read", "[loader]") {
    const auto plugin = LoadedPlugin::load(ZOO_ABI_1_0);
    const auto& shape = plugin->shape();
    CHECK(shape.abi_minor == 0);
    CHECK(shape.hooks.benchmark == nullptr);
    CHECK(shape.readiness.benchmark_route == 0);
    CHECK(shape.readiness.benchmark_runs == 8);
    CHECK(shape.readiness.health_path.empty());
}
