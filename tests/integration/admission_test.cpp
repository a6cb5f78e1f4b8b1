// Admission and queues (core/protocol.md §9): 429 over the queue estimate, FIFO order, a client
// that leaves frees its place and is counted as cancelled, and the estimate as /metrics shows it.
#include "http_client.hpp"
#include "worker_process.hpp"

#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include <unistd.h>

using namespace cppworker::test;
using namespace std::chrono_literals;


TEST_CASE("a request is refused with 429 when the queue estimate is over max_queue_time",
          "[integration][admission]") {
    WorkerProcess w(artifact(TESTKIT_PLUGIN));
    // Whatever the benchmark measured, 1e12 units of queued work are more than 1 s of it.
    auto first = std::async(std::launch::async, [&] {
        return http(w.port(), "POST", "/bounded", R"({"payload": {"ms": 800, "workload": 1e12}})");
    });
    REQUIRE(w.wait_for_log("sleep started"));
    auto refused = http(w.port(), "POST", "/bounded", R"({"payload": {"ms": 1, "workload": 10}})");
    CHECK(refused.status == 429);
    CHECK(refused.body.empty());
    CHECK(first.get().status == 200);
    CHECK(http(w.port(), "POST", "/bounded", R"({"payload": {"ms": 1}})").status == 200);
    CHECK(metric(w.port(), "cppworker_requests_total{outcome=\"rejected\"}") == 1);
    CHECK(metric(w.port(), "cppworker_workload_total{outcome=\"rejected\"}") == 10);
}

TEST_CASE("a request refused before admission (422, 410) is counted as invalid, not as rejected",
          "[integration][admission]") {
    WorkerProcess w(artifact(HELLO_WORLD_PLUGIN));
    // The plugin's workload hook refuses the payload; then the envelope itself is malformed; then
    // it names a session that is not open.
    CHECK(http(w.port(), "POST", "/increment", R"({"payload": {"amount": "two"}})").status == 422);
    CHECK(http(w.port(), "POST", "/increment", R"({"payload": 5})").status == 422);
    CHECK(http(w.port(), "POST", "/increment", R"({"payload": {"amount": 1}, "session_id": "none"})").status == 410);
    CHECK(metric(w.port(), "cppworker_requests_total{outcome=\"invalid\"}") == 3);
    CHECK(metric(w.port(), "cppworker_requests_total{outcome=\"rejected\"}") == 0);
    CHECK(metric(w.port(), "cppworker_workload_total{outcome=\"rejected\"}") == 0);
    CHECK(metric(w.port(), "cppworker_route_requests_total{route=\"POST /increment\",code=\"422\"}") == 2);
    CHECK(metric(w.port(), "cppworker_route_requests_total{route=\"POST /increment\",code=\"410\"}") == 1);
}

TEST_CASE("FIFO requests reach the plugin in the order they arrived", "[integration][admission]") {
    WorkerProcess w(artifact(TESTKIT_PLUGIN), {"--blocking-threads", "8"});
    constexpr int n = 50;
    std::vector<std::unique_ptr<HttpConnection>> clients;
    // The first holds the slot long enough for the rest to queue up behind it.
    for (int tag = 0; tag < n; ++tag) {
        clients.push_back(std::make_unique<HttpConnection>(w.port()));
        const int ms = tag == 0 ? 500 : 1;
        clients.back()->send_raw(
            [&] {
                const std::string body = R"({"payload": {"tag": )" + std::to_string(tag) + R"(, "ms": )" +
                                         std::to_string(ms) + "}}";
                return "POST /fifo HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(body.size()) +
                       "\r\n\r\n" + body;
            }());
        // Send the next only once this one has entered the queue (it is counted as received just
        // before), so arrival order is certain even if the first is done by then.
        REQUIRE(wait_metric(w.port(), "cppworker_workload_total{outcome=\"received\"}", tag + 1));
    }
    for (int tag = 0; tag < n; ++tag) {
        const auto r = clients[tag]->read_response();
        REQUIRE(r.status == 200);
        const auto v = boost::json::parse(r.body).as_object();
        CHECK(v.at("tag").as_int64() == tag);
        CHECK(v.at("started").as_int64() == tag);
    }
}

TEST_CASE("a queued client that leaves frees its place at once and counts as cancelled",
          "[integration][admission]") {
    WorkerProcess w(artifact(TESTKIT_PLUGIN));
    auto holder = std::async(std::launch::async, [&] {
        return http(w.port(), "POST", "/fifo", R"({"payload": {"tag": 0, "ms": 600, "workload": 3}})");
    });
    REQUIRE(wait_metric(w.port(), "cppworker_requests_working", 1));
    {
        HttpConnection leaver(w.port());
        const std::string body = R"({"payload": {"tag": 1, "workload": 5}})";
        leaver.send_raw("POST /fifo HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(body.size()) +
                        "\r\n\r\n" + body);
        REQUIRE(wait_metric(w.port(), "cppworker_queued_requests", 1));
    }
    CHECK(wait_metric(w.port(), "cppworker_queued_requests", 0));
    CHECK(wait_metric(w.port(), "cppworker_requests_total{outcome=\"cancelled\"}", 1));
    CHECK(metric(w.port(), "cppworker_workload_total{outcome=\"cancelled\"}") == 5);
    CHECK(holder.get().status == 200);
    // The slot went back to the pool, not to the client that left.
    auto next = http(w.port(), "POST", "/fifo", R"({"payload": {"tag": 2}})");
    CHECK(next.status == 200);
    CHECK(boost::json::parse(next.body).at("started").as_int64() == 1);
    CHECK(metric(w.port(), "cppworker_requests_working") == 0);
}

TEST_CASE("a running client that leaves is counted as cancelled and frees its slot", "[integration][admission]") {
    WorkerProcess w(artifact(TESTKIT_PLUGIN));
    {
        HttpConnection leaver(w.port());
        // The plugin goes on with it for 5 s, whether the client stays or not.
        const std::string body = R"({"payload": {"tag": 0, "ms": 5000, "workload": 2}})";
        leaver.send_raw("POST /fifo HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(body.size()) +
                        "\r\n\r\n" + body);
        REQUIRE(w.wait_for_log("fifo request 0 started"));  // in the plugin, holding the FIFO slot
    }
    CHECK(wait_metric(w.port(), "cppworker_requests_total{outcome=\"cancelled\"}", 1));
    CHECK(wait_metric(w.port(), "cppworker_requests_working", 0));
    // The slot is free at the disconnect, not when the plugin is done: the next request does not
    // wait out the 5 s.
    HttpConnection next(w.port(), 3s);
    const auto r = next.request("POST", "/fifo", R"({"payload": {"tag": 1}})");
    CHECK(r.status == 200);
    CHECK(r.body == R"({"tag":1,"started":1})");
}

TEST_CASE("a limit-N route runs N at a time and queues the rest", "[integration][admission]") {
    WorkerProcess w(artifact(TESTKIT_PLUGIN));
    std::vector<std::future<HttpResponse>> calls;
    for (int i = 0; i < 3; ++i) {
        calls.push_back(std::async(std::launch::async, [&] {
            return http(w.port(), "POST", "/pair", R"({"payload": {"ms": 800}})");
        }));
    }
    // Two run, the third waits for one of them.
    CHECK(wait_metric(w.port(), "cppworker_requests_working", 3));
    CHECK(wait_metric(w.port(), "cppworker_queued_requests", 1));
    for (auto& c : calls) CHECK(c.get().status == 200);
    CHECK(metric(w.port(), "cppworker_queued_requests") == 0);
}

TEST_CASE("the queue estimate on /metrics is the running and queued workload over max_perf without sessions",
          "[integration][admission][metrics]") {
    const auto cache = std::filesystem::temp_directory_path() /
                       ("cppworker-queue-estimate-" + std::to_string(::getpid()) + ".benchmark");
    std::ofstream(cache) << "200.0";
    WorkerProcess w(artifact(TESTKIT_PLUGIN), {}, {{"BENCHMARK_CACHE", cache.string()}});
    REQUIRE(wait_ready(w.port(), 200));
    std::filesystem::remove(cache);
    REQUIRE(metric(w.port(), "cppworker_max_perf") == 200);
    CHECK(metric(w.port(), "cppworker_estimated_queue_seconds") == 0);

    const auto session = http(w.port(), "POST", "/session/create",
                              R"({"auth_data": {"cost": 40, "endpoint": "e", "reqnum": 1, "request_idx": 1,
                                  "signature": "s", "url": "u"}, "payload": {"lifetime": 60}})");
    REQUIRE(session.status == 201);
    std::vector<std::future<HttpResponse>> calls;
    for (int i = 0; i < 3; ++i) {
        calls.push_back(std::async(std::launch::async, [&] {
            return http(w.port(), "POST", "/pair", R"({"payload": {"ms": 3000, "workload": 100}})");
        }));
    }
    // Two run and one waits for a slot: 300 units at 200 a second, the session's 40 not counted.
    REQUIRE(wait_metric(w.port(), "cppworker_queued_requests", 1));
    REQUIRE(wait_metric(w.port(), "cppworker_requests_working", 4));
    CHECK(metric(w.port(), "cppworker_estimated_queue_seconds") == 1.5);
    for (auto& c : calls) CHECK(c.get().status == 200);
    CHECK(metric(w.port(), "cppworker_estimated_queue_seconds") == 0);
}
