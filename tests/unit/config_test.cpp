#include "config/config.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>

using cppworker::config::parse;

namespace {
cppworker::config::ParseResult run(std::vector<const char*> args) {
    args.insert(args.begin(), "cppworker");
    return parse(static_cast<int>(args.size()), args.data(), "/opt/cw/bin");
}
}  // namespace

TEST_CASE("config: defaults match PyWorker's launch script", "[unit][config]") {
    ::unsetenv("WORKER_PORT");
    ::unsetenv("BACKEND");
    auto r = run({});
    REQUIRE(r.config);
    CHECK(r.config->port == 3000);
    CHECK(r.config->backend == "hello_world");
    CHECK(r.config->plugin_path == "/opt/cw/lib/cppworker/plugins/hello_world.so");
    CHECK(r.config->report_addr.empty());
}

TEST_CASE("config: environment variables, then flags over them", "[unit][config]") {
    ::setenv("WORKER_PORT", "4100", 1);
    ::setenv("BACKEND", "hello_c", 1);
    auto env = run({});
    REQUIRE(env.config);
    CHECK(env.config->port == 4100);
    CHECK(env.config->plugin_path == "/opt/cw/lib/cppworker/plugins/hello_c.so");

    auto flags = run({"--port", "4200", "--plugin", "/x/y.so", "--read-timeout", "1.5"});
    REQUIRE(flags.config);
    CHECK(flags.config->port == 4200);
    CHECK(flags.config->plugin_path == "/x/y.so");
    CHECK(flags.config->read_timeout == std::chrono::milliseconds(1500));
    ::unsetenv("WORKER_PORT");
    ::unsetenv("BACKEND");
}

TEST_CASE("config: bad values are refused with the flag named", "[unit][config]") {
    auto port = run({"--port", "70000"});
    CHECK_FALSE(port.config);
    CHECK(port.exit_code != 0);
    CHECK_THAT(port.message, Catch::Contains("--port"));

    auto option = run({"--plugin-option", "novalue"});
    CHECK_FALSE(option.config);
    CHECK_THAT(option.message, Catch::Contains("key=value"));

    auto help = run({"--help"});
    CHECK_FALSE(help.config);
    CHECK(help.exit_code == 0);
    CHECK_THAT(help.message, Catch::Contains("WORKER_PORT"));
}

TEST_CASE("config: plugin options are split at the first '='", "[unit][config]") {
    auto r = run({"--plugin-option", "A=b=c", "--plugin-option", "EMPTY="});
    REQUIRE(r.config);
    CHECK(r.config->plugin_options.at("A") == "b=c");
    CHECK(r.config->plugin_options.at("EMPTY").empty());
}

TEST_CASE("config: the model server's health path and upstream timeouts", "[unit][config]") {
    auto defaults = run({});
    REQUIRE(defaults.config);
    CHECK_FALSE(defaults.config->model_health_path);
    CHECK(defaults.config->upstream_connect_timeout == std::chrono::seconds(10));
    CHECK(defaults.config->upstream_timeout == std::chrono::seconds(600));

    ::setenv("MODEL_HEALTH_ENDPOINT", "/system_stats", 1);
    auto env = run({"--upstream-timeout", "2.5"});
    ::unsetenv("MODEL_HEALTH_ENDPOINT");
    REQUIRE(env.config);
    CHECK(env.config->model_health_path == "/system_stats");
    CHECK(env.config->upstream_timeout == std::chrono::milliseconds(2500));

    auto none = run({"--model-health-path", "none"});
    REQUIRE(none.config);
    CHECK(none.config->model_health_path == "");

    auto bad = run({"--model-health-path", "health"});
    CHECK_FALSE(bad.config);
    CHECK_THAT(bad.message, Catch::Contains("MODEL_HEALTH_ENDPOINT"));
}
