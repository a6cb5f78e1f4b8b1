#include "http_client.hpp"
#include "worker_process.hpp"

#include <catch2/catch.hpp>

#include <regex>
#include <thread>
#include <utility>
#include <vector>

using namespace cppworker::test;

TEST_CASE("built-in routes answer without the plugin", "[integration][builtin]") {
    WorkerProcess w(artifact(HELLO_WORLD_PLUGIN));

    auto ping = http(w.port(), "GET", "/ping");
    CHECK(ping.status == 200);
    CHECK(ping.body == "pong");

    auto health = http(w.port(), "GET", "/healthz");
    CHECK(health.status == 200);

    // Ready once hello_world's benchmark has run.
    HttpResponse ready;
    for (int i = 0; i < 200 && ready.status != 200; ++i) {
        ready = http(w.port(), "GET", "/readyz");
        if (ready.status != 200) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    CHECK(ready.status == 200);
    CHECK(ready.body == R"({"ready": true})");

    auto post_ping = http(w.port(), "POST", "/ping", "{}");
    CHECK(post_ping.status == 405);
    CHECK(post_ping.header("allow") == "GET");
}

TEST_CASE("/metrics shows the plugin's own figures in Prometheus text", "[integration][builtin]") {
    WorkerProcess w(artifact(HELLO_WORLD_PLUGIN));
    REQUIRE(http(w.port(), "POST", "/increment", R"({"payload": {"amount": 7}})").status == 200);

    // The route's sample (status and duration) is taken once its answer is written, just after the
    // client may have read it.
    HttpResponse m;
    for (int i = 0; i < 100; ++i) {
        m = http(w.port(), "GET", "/metrics");
        if (m.body.find("cppworker_request_duration_seconds_count{route=\"POST /increment\"} 1\n") != std::string::npos) {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    CHECK(m.status == 200);
    CHECK(m.header("content-type").starts_with("text/plain; version=0.0.4"));
    CHECK_THAT(m.body, Catch::Contains("# TYPE cppworker_plugin_counter_value gauge\ncppworker_plugin_counter_value 7\n"));
    CHECK_THAT(m.body, Catch::Contains("cppworker_route_requests_total{route=\"POST /increment\",code=\"200\"} 1\n"));
    CHECK_THAT(m.body, Catch::Contains("cppworker_request_duration_seconds_count{route=\"POST /increment\"} 1\n"));
    CHECK_THAT(m.body, Catch::Contains("cppworker_requests_total{outcome=\"success\"} 1\n"));
}

TEST_CASE("the worker's answers carry a Date header in IMF-fixdate", "[integration][builtin]") {
    WorkerProcess w(artifact(TESTKIT_PLUGIN));
    const std::regex imf_fixdate(R"((Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) )"
                                 R"(\d{4} \d{2}:\d{2}:\d{2} GMT)");
    // A built-in route, errors the core writes, a plugin's whole answer.
    for (const auto& [method, target] : std::vector<std::pair<std::string, std::string>>{
             {"GET", "/healthz"}, {"GET", "/nowhere"}, {"POST", "/session/get"}, {"POST", "/sleep"}}) {
        INFO(method << " " << target);
        CHECK(std::regex_match(http(w.port(), method, target).header("date"), imf_fixdate));
    }
    // And a streamed one.
    HttpConnection c(w.port());
    auto [head, chunks] = c.stream("POST", "/stream", R"({"payload": {"chunks": 1, "interval_ms": 1}})");
    CHECK(head.status == 200);
    CHECK(std::regex_match(head.header("date"), imf_fixdate));
}
