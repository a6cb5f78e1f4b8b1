// The timer_start service (ABI 1.4) through the real worker, with the testkit plugin's /timer routes:
// a request waits on the host's timers without holding a thread, hears CPPW_CANCELLED as soon as it
// is given up, never hears a timer once it is completed, and at shutdown every waiting timer calls
// back before finalize.
#include "http_client.hpp"
#include "worker_process.hpp"

#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include <csignal>
#include <future>
#include <memory>
#include <string>
#include <vector>

using namespace cppworker::test;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

std::string post(const std::string& path, const std::string& payload) {
    const std::string body = R"({"payload": )" + payload + "}";
    return "POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body;
}

double testkit(uint16_t port, const std::string& name) { return metric(port, "cppworker_plugin_testkit_" + name); }

}  // namespace

TEST_CASE("timers: a request waits on the host's timers, called back on its own loop", "[integration][timers]") {
    WorkerProcess w(artifact(TESTKIT_PLUGIN));
    const auto res = http(w.port(), "POST", "/timer", R"({"payload": {"ms": 30, "rounds": 3}})");
    REQUIRE(res.status == 200);
    // handle ran on the connection's loop, and so did each callback.
    CHECK(res.body == R"({"timer":"ok","same_thread":true})");
    CHECK(testkit(w.port(), "timer_ok_total") == 3);
    CHECK(testkit(w.port(), "timer_inside_service_total") == 0);
    CHECK(metric(w.port(), "cppworker_timers_pending") == 0);
    CHECK(testkit(w.port(), "timer_jobs_alive") == 0);
}

TEST_CASE("timers: blocking handle calls that wait on timers free the pool, so more wait than it has threads",
          "[integration][timers]") {
    WorkerProcess w(artifact(TESTKIT_PLUGIN), {"--blocking-threads", "1"});
    std::vector<std::future<HttpResponse>> waiting;
    for (int i = 0; i < 3; ++i) {
        waiting.push_back(std::async(std::launch::async, [&] {
            return http(w.port(), "POST", "/timer_blocking", R"({"payload": {"ms": 3000}})");
        }));
    }
    // All three handle calls ran on the pool's one thread, one after the other, and returned: each
    // request now waits on its timer, none on a thread.
    CHECK(wait_metric(w.port(), "cppworker_timers_pending", 3));
    CHECK(testkit(w.port(), "handle_calls_timer_blocking_total") == 3);
    for (auto& f : waiting) {
        const auto res = f.get();
        CHECK(res.status == 200);
        // Called back on the request's loop, not on the pool thread handle ran on.
        CHECK(res.body == R"({"timer":"ok","same_thread":false})");
    }
    CHECK(testkit(w.port(), "timer_ok_total") == 3);
}

TEST_CASE("timers: a request given up hears CPPW_CANCELLED at once, never inside the host call that gave it up",
          "[integration][timers][cancel]") {
    WorkerProcess w(artifact(TESTKIT_PLUGIN), {"--stream-high-water", "4096"});
    {
        HttpConnection leaving(w.port());
        leaving.send_raw(post("/timer", R"({"ms": 60000})"));
        REQUIRE(wait_metric(w.port(), "cppworker_timers_pending", 1));
    }
    // Long before the 60 s.
    CHECK(wait_metric(w.port(), "cppworker_plugin_testkit_timer_cancelled_total", 1));
    CHECK(wait_metric(w.port(), "cppworker_requests_total{outcome=\"cancelled\"}", 1));

    // Given up inside stream_write (the plugin overran its stream's buffer): the callback comes
    // afterwards, from the loop.
    HttpConnection flooding(w.port());
    flooding.send_raw(post("/timer", R"({"ms": 60000, "flood": true})"));
    CHECK(wait_metric(w.port(), "cppworker_plugin_testkit_timer_cancelled_total", 2));
    CHECK(testkit(w.port(), "timer_inside_service_total") == 0);
    CHECK(testkit(w.port(), "timer_ok_total") == 0);
    CHECK(wait_metric(w.port(), "cppworker_timers_pending", 0));
    CHECK(wait_metric(w.port(), "cppworker_plugin_testkit_timer_jobs_alive", 0));
    CHECK(wait_metric(w.port(), "cppworker_registered_requests", 0));
}

TEST_CASE("timers: a timer waiting when its request is completed never calls back, and is gone at once",
          "[integration][timers]") {
    WorkerProcess w(artifact(TESTKIT_PLUGIN));
    const auto res = http(w.port(), "POST", "/timer", R"({"payload": {"ms": 60000, "complete_after_ms": 10}})");
    REQUIRE(res.status == 200);
    CHECK(res.body == R"({"completed": "before the long timer"})");
    // Dropped by the host and by the SDK: nothing waits, and the request's state is freed, long
    // before the 60 s would have passed.
    CHECK(wait_metric(w.port(), "cppworker_timers_pending", 0));
    CHECK(wait_metric(w.port(), "cppworker_plugin_testkit_timer_jobs_alive", 0));
    CHECK(testkit(w.port(), "timer_ok_total") == 0);
    CHECK(testkit(w.port(), "timer_cancelled_total") == 0);
    CHECK(metric(w.port(), "cppworker_requests_total{outcome=\"success\"}") == 1);
}

TEST_CASE("timers: at shutdown a waiting timer calls back as cancelled, before finalize", "[integration][timers]") {
    WorkerProcess w(artifact(TESTKIT_PLUGIN), {"--drain-timeout", "1"});
    HttpConnection waiting(w.port());
    waiting.send_raw(post("/timer", R"({"ms": 60000})"));
    REQUIRE(wait_metric(w.port(), "cppworker_timers_pending", 1));
    w.signal(SIGTERM);
    REQUIRE(w.wait_exit(20s) == 0);
    const auto log = w.log();
    const auto cancelled = log.find(": cancelled", log.find("timer of request "));
    const auto finalized = log.find("testkit finalized");
    REQUIRE(cancelled != std::string::npos);
    REQUIRE(finalized != std::string::npos);
    CHECK(cancelled < finalized);
}
