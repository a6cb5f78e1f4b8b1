// Bounds on what the worker holds and how long anyone waits: time in a queue counts toward the
// request timeout, connections past --max-connections are turned away, and nothing kept per
// request outlives it (standalone), or more than --max-undelivered ids wait for an autoscaler.
#include "fake_http_server.hpp"
#include "http_client.hpp"
#include "worker_process.hpp"

#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include <future>
#include <set>
#include <thread>

using namespace cppworker::test;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {
std::string enveloped(int64_t idx, std::string_view payload) {
    return R"({"auth_data": {"cost": 1, "endpoint": "e", "reqnum": )" + std::to_string(idx) + R"(, "request_idx": )" +
           std::to_string(idx) + R"(, "signature": "-", "url": "u"}, "payload": )" + std::string(payload) + "}";
}
}  // namespace

TEST_CASE("time queued counts toward --request-timeout, and the queue place is freed", "[integration][limits]") {
    WorkerProcess w(artifact(TESTKIT_PLUGIN), {"--request-timeout", "1"});
    // Holds the FIFO slot for 3 s: a stream, once begun, has no request timeout.
    auto holder = std::async(std::launch::async, [&] {
        HttpConnection c(w.port());
        return c.stream("POST", "/fifo_stream", R"({"payload": {"chunks": 30, "interval_ms": 100}})");
    });
    REQUIRE(wait_metric(w.port(), "cppworker_requests_working", 1));
    const auto queued = http(w.port(), "POST", "/fifo", R"({"payload": {"tag": 1}})");
    CHECK(queued.status == 504);
    CHECK_THAT(queued.body, Catch::Contains("waited in its queue"));
    CHECK(metric(w.port(), "cppworker_queued_requests") == 0);
    const auto [head, chunks] = holder.get();
    CHECK(head.status == 200);
    CHECK(count(joined(chunks), "data: ") == 30);
    CHECK(wait_metric(w.port(), "cppworker_requests_total{outcome=\"error\"}", 1));
    CHECK(http(w.port(), "POST", "/fifo", R"({"payload": {"tag": 2}})").status == 200);
}

TEST_CASE("past --max-connections a new connection gets 503 and is closed", "[integration][limits]") {
    WorkerProcess w(artifact(HELLO_WORLD_PLUGIN), {"--max-connections", "2"});
    auto first = std::make_unique<HttpConnection>(w.port());
    HttpConnection second(w.port());
    REQUIRE(first->request("GET", "/value").status == 200);
    REQUIRE(second.request("GET", "/value").status == 200);

    HttpConnection third(w.port());
    const auto refused = third.read_response();
    CHECK(refused.status == 503);
    CHECK_FALSE(refused.keep_alive);
    CHECK(third.closed_by_peer(2s));
    CHECK(w.wait_for_log("connection(s) refused with 503: --max-connections 2 are open"));

    first.reset();  // a place comes free, once the worker has seen the connection close
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    double refused_total = -1;  // what a 503 answer to the metrics request reads as
    while (refused_total < 0 && std::chrono::steady_clock::now() < deadline) {
        refused_total = metric(w.port(), "cppworker_connections_refused_total");
    }
    CHECK(refused_total >= 1);
    CHECK(second.request("GET", "/value").status == 200);
}

TEST_CASE("standalone, a hundred thousand requests leave nothing behind", "[integration][limits][slow]") {
    WorkerProcess w(artifact(HELLO_WORLD_PLUGIN));
    constexpr int clients = 4, each = 25'000;
    std::vector<std::future<int>> done;
    for (int k = 0; k < clients; ++k) {
        done.push_back(std::async(std::launch::async, [&, k] {
            HttpConnection c(w.port());
            int ok = 0;
            for (int i = 0; i < each; ++i) {
                ok += c.request("POST", "/increment", enveloped(k * each + i, R"({"amount": 1})")).status == 200;
            }
            return ok;
        }));
    }
    int ok = 0;
    for (auto& d : done) ok += d.get();
    CHECK(ok == clients * each);
    CHECK(http(w.port(), "GET", "/value").body == R"({"value":100000})");
    CHECK(metric(w.port(), "cppworker_registered_requests") == 0);
    CHECK(metric(w.port(), "cppworker_ledger_entries") == 0);
    // Without REPORT_ADDR there is no one to deliver ids to, so none is kept.
    CHECK(metric(w.port(), "cppworker_undelivered_ids") == 0);
    CHECK(metric(w.port(), "cppworker_undelivered_dropped_total") == 0);
}

TEST_CASE("while the autoscaler is down at most --max-undelivered ids wait, the newest, and all go after",
          "[integration][limits][autoscaler]") {
    FakeHttpServer autoscaler([](const ReceivedRequest&) { return CannedAnswer{200, "{}"}; });
    autoscaler.set_refusing(true);
    WorkerProcess w(artifact(HELLO_WORLD_PLUGIN), {"--external-port", "1", "--max-undelivered", "5"},
                    {{"REPORT_ADDR", autoscaler.url()}, {"CONTAINER_ID", "42"}, {"PUBLIC_IPADDR", "1.2.3.4"},
                     {"MASTER_TOKEN", "tok"}, {"UNSECURED", "true"}});
    for (int64_t i = 1; i <= 8; ++i) {
        REQUIRE(http(w.port(), "POST", "/increment", enveloped(i, R"({"amount": 1})")).status == 200);
    }
    CHECK(metric(w.port(), "cppworker_undelivered_ids") == 5);
    CHECK(metric(w.port(), "cppworker_undelivered_dropped_total") == 3);
    CHECK(w.wait_for_log("3 finished request id(s) dropped undelivered"));

    autoscaler.set_refusing(false);
    CHECK(wait_metric(w.port(), "cppworker_undelivered_ids", 0, 30s));
    std::multiset<int64_t> delivered;
    for (const auto& r : autoscaler.received()) {
        if (r.target != "/delete_requests/") continue;
        const auto body = json::parse(r.body);
        for (const auto& idx : body.at("request_idxs").as_array()) delivered.insert(idx.as_int64());
    }
    CHECK(delivered == std::multiset<int64_t>{4, 5, 6, 7, 8});
}
