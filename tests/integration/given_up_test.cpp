// A request whose client leaves before the plugin's handle began never reaches handle, on every
// kind of route that can keep a request waiting: behind a busy blocking pool (parallel, FIFO and
// limited blocking routes) or in a route's queue (FIFO and limited routes handled in place). The
// testkit plugin counts its handle calls per route.
#include "http_client.hpp"
#include "worker_process.hpp"

#include <catch2/catch.hpp>

#include <memory>
#include <string>

using namespace cppworker::test;
using namespace std::chrono_literals;

namespace {

std::string post(const std::string& path, const std::string& payload) {
    const std::string body = R"({"payload": )" + payload + "}";
    return "POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body;
}

double handle_calls(uint16_t port, const std::string& route) {
    return metric(port, "cppworker_plugin_testkit_handle_calls_" + route + "_total");
}

struct Kind {
    std::string what;
    std::string occupant;          // a route whose request keeps the pool or the queue busy until its client leaves
    std::string occupant_payload;
    std::string waiting;           // the route of the request that is given up while it waits
    bool behind_the_pool;          // it waits for the one blocking thread, not in its route's queue
};

}  // namespace

TEST_CASE("a request given up before handle began never reaches handle, on every kind of route",
          "[integration][cancel]") {
    WorkerProcess w(artifact(TESTKIT_PLUGIN), {"--blocking-threads", "1"});
    const Kind kinds[] = {
        {"blocking, parallel", "sleep", R"({"ms": 60000})", "sleep", true},
        {"blocking, FIFO", "sleep", R"({"ms": 60000})", "fifo", true},
        {"blocking, limit 2", "sleep", R"({"ms": 60000})", "pair", true},
        {"in place, FIFO", "fifo_stream", R"({"chunks": 100000, "interval_ms": 20})", "fifo_stream", false},
        {"in place, limit 1", "limited", R"({"ms": 60000})", "limited", false},
    };
    double cancelled = 0;
    for (const auto& kind : kinds) {
        INFO(kind.what);
        const double occupant_calls = handle_calls(w.port(), kind.occupant);
        const double waiting_calls = handle_calls(w.port(), kind.waiting);
        auto occupant = std::make_unique<HttpConnection>(w.port());
        occupant->send_raw(post("/" + kind.occupant, kind.occupant_payload));
        REQUIRE(wait_metric(w.port(), "cppworker_plugin_testkit_handle_calls_" + kind.occupant + "_total",
                            occupant_calls + 1));

        auto waiting = std::make_unique<HttpConnection>(w.port());
        waiting->send_raw(post("/" + kind.waiting, R"({"tag": "given up"})"));
        if (kind.behind_the_pool) {
            // Admitted and handed over: its handle call waits for the pool's one thread.
            REQUIRE(wait_metric(w.port(), "cppworker_requests_working", 2));
        } else {
            REQUIRE(wait_metric(w.port(), "cppworker_queued_requests", 1));
        }
        waiting.reset();
        REQUIRE(wait_metric(w.port(), "cppworker_requests_total{outcome=\"cancelled\"}", ++cancelled));
        CHECK(metric(w.port(), "cppworker_requests_working") == 1);

        // The occupant's client leaves too: the pool's thread or the route's slot is free again.
        occupant.reset();
        REQUIRE(wait_metric(w.port(), "cppworker_requests_total{outcome=\"cancelled\"}", ++cancelled));
        if (kind.behind_the_pool) {
            // The pool took the call up and let it go.
            REQUIRE(w.wait_for_log("(/" + kind.waiting + "): given up before the plugin's handle began; handle not called"));
        } else {
            CHECK(w.log().find("(/" + kind.waiting + "): left the queue; cancelled") != std::string::npos);
        }
        CHECK(handle_calls(w.port(), kind.waiting) == waiting_calls + (kind.waiting == kind.occupant ? 1 : 0));

        // The route serves the next request at once, and that one is counted.
        const auto next = http(w.port(), "POST", "/" + kind.waiting, R"({"payload": {"ms": 1, "chunks": 1}})");
        CHECK(next.status == 200);
        CHECK(handle_calls(w.port(), kind.waiting) == waiting_calls + (kind.waiting == kind.occupant ? 2 : 1));
    }
    // Each payload kept by workload was freed exactly once; nothing is left registered; only the
    // occupants, which handle had, heard the cancel hook.
    CHECK(wait_metric(w.port(), "cppworker_plugin_testkit_kept_alive", 0));
    CHECK(wait_metric(w.port(), "cppworker_registered_requests", 0));
    CHECK(metric(w.port(), "cppworker_plugin_testkit_cancels_total") == 5);
}
