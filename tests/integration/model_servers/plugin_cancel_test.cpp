// ABI 1.3 through the test kit and the real worker: the cancel hook (once per request the host
// gives up, never for one completed first), the payload kept from workload to handle (handed over
// or released, never leaked), and forwards of the plugin's own that belong to no request.
#include "fake_model_server.hpp"
#include "http_client.hpp"
#include "worker_process.hpp"

#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include <future>
#include <map>
#include <memory>
#include <string>
#include <vector>

using namespace cppworker::test;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {
std::string post_bytes(std::string_view target, std::string_view body) {
    return "POST " + std::string(target) + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
}
double plugin_metric(uint16_t port, std::string_view name) {
    return metric(port, "cppworker_plugin_" + std::string(name));
}
}  // namespace

TEST_CASE("plugin cancel: once per request given up, never for one completed first", "[integration][cancel]") {
    WorkerProcess w(artifact(TESTKIT_PLUGIN), {"--request-timeout", "2"}, {{"UNSECURED", "true"}});

    // Completed, and then the client leaves (http() closes its connection): nothing to cancel.
    for (int i = 0; i < 20; ++i) REQUIRE(http(w.port(), "POST", "/late", R"({"ms": 0})").status == 200);

    // Clients that leave while the plugin works on their requests.
    {
        std::vector<std::unique_ptr<HttpConnection>> leaving;
        for (int i = 0; i < 5; ++i) {
            leaving.push_back(std::make_unique<HttpConnection>(w.port()));
            leaving.back()->send_raw(post_bytes("/late", R"({"ms": 5000})"));
        }
        REQUIRE(wait_metric(w.port(), "cppworker_requests_working", 5, 10s));
    }
    CHECK(wait_metric(w.port(), "cppworker_plugin_testkit_cancels_total", 5, 5s));

    // A stream whose client leaves after the first chunks.
    {
        HttpConnection c(w.port());
        c.send_raw(post_bytes("/stream", R"({"chunks": 1000, "interval_ms": 20})"));
        REQUIRE(wait_metric(w.port(), "cppworker_requests_working", 1, 10s));
    }
    CHECK(wait_metric(w.port(), "cppworker_plugin_testkit_cancels_total", 6, 5s));

    // The request deadline (--request-timeout 2) passes before the plugin answers: 504.
    CHECK(http(w.port(), "POST", "/late", R"({"ms": 4000})").status == 504);
    CHECK(wait_metric(w.port(), "cppworker_plugin_testkit_cancels_total", 7, 5s));

    for (int i = 0; i < 10; ++i) REQUIRE(http(w.port(), "POST", "/late", R"({"ms": 1})").status == 200);
    CHECK(plugin_metric(w.port(), "testkit_cancels_total") == 7);
    CHECK(plugin_metric(w.port(), "testkit_cancel_repeats_total") == 0);
    CHECK(plugin_metric(w.port(), "testkit_cancels_after_completion_total") == 0);
}

TEST_CASE("plugin cancel: a payload kept by workload reaches handle or is released, never leaked",
          "[integration][cancel]") {
    WorkerProcess w(artifact(TESTKIT_PLUGIN), {}, {{"UNSECURED", "true"}});
    // The benchmark's requests take the same path; counted from here on.
    REQUIRE(wait_ready(w.port(), 200));
    const double taken_before = plugin_metric(w.port(), "testkit_kept_taken_total");

    for (int i = 0; i < 5; ++i) REQUIRE(http(w.port(), "POST", "/late", R"({"ms": 0})").status == 200);
    CHECK(plugin_metric(w.port(), "testkit_kept_taken_total") == taken_before + 5);

    // Refused after workload ran: a session that does not exist.
    for (int i = 0; i < 3; ++i) {
        REQUIRE(http(w.port(), "POST", "/late", R"({"payload": {"ms": 0}, "session_id": "nope"})").status == 410);
    }
    // Clients that leave the FIFO queue before their turn.
    auto running = std::async(std::launch::async, [&] { return http(w.port(), "POST", "/fifo", R"({"ms": 1000})"); });
    REQUIRE(wait_metric(w.port(), "cppworker_requests_working", 1, 10s));
    {
        std::vector<std::unique_ptr<HttpConnection>> queued;
        for (int i = 0; i < 4; ++i) {
            queued.push_back(std::make_unique<HttpConnection>(w.port()));
            queued.back()->send_raw(post_bytes("/fifo", R"({"ms": 0})"));
        }
        REQUIRE(wait_metric(w.port(), "cppworker_queued_requests", 4, 10s));
    }
    REQUIRE(wait_metric(w.port(), "cppworker_queued_requests", 0, 10s));
    CHECK(running.get().status == 200);

    CHECK(plugin_metric(w.port(), "testkit_kept_taken_total") == taken_before + 6);
    CHECK(wait_metric(w.port(), "cppworker_plugin_testkit_kept_alive", 0, 5s));
}

TEST_CASE("plugin cancel: a forward of the plugin's own belongs to no request and outlives its client",
          "[integration][cancel][forward]") {
    FakeModelServer fake("tgi", {"--token-delay", "0"});
    REQUIRE(fake.wait_loaded());
    WorkerProcess w(artifact(TESTKIT_PLUGIN), {"--plugin-option", "TESTKIT_CANCEL_POKE=/poke"},
                    {{"UNSECURED", "true"}, {"MODEL_SERVER_URL", fake.url()}});

    const auto own = http(w.port(), "POST", "/own", R"({"target": "/info"})");
    REQUIRE(own.status == 200);
    CHECK(json::parse(own.body).at("status") == 200);
    CHECK(json::parse(json::parse(own.body).at("body").as_string()).as_object().contains("model_id"));

    // The cancel hook pokes the model server after the client has gone.
    {
        HttpConnection c(w.port());
        c.send_raw(post_bytes("/late", R"({"ms": 5000})"));
        REQUIRE(wait_metric(w.port(), "cppworker_requests_working", 1, 10s));
    }
    CHECK(fake.wait_for([](const json::object& s) { return path_count(s, "/poke") == 1; }, 5s));
}
