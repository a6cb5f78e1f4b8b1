// How the core holds plugins to the ABI's request rules: answers from other threads, streaming,
// cancellation, exceptions, double and missing completions.
#include "http_client.hpp"
#include "worker_process.hpp"

#include <catch2/catch.hpp>

#include <csignal>
#include <thread>

using namespace cppworker::test;
using namespace std::chrono_literals;

TEST_CASE("an answer may come later from another thread", "[integration][contract]") {
    WorkerProcess w(artifact(TESTKIT_PLUGIN));
    auto r = http(w.port(), "POST", "/late", R"({"payload": {"ms": 50, "tag": "from another thread"}})");
    CHECK(r.status == 200);
    CHECK(r.body == R"({"late": true})");
    // This request's own line: the benchmark's requests take /late too, and each of them is
    // answered with status 0 as well.
    CHECK(w.wait_for_log("(from another thread) answered with status 0"));
}

TEST_CASE("streamed answers reach the client chunk by chunk", "[integration][contract][stream]") {
    WorkerProcess w(artifact(TESTKIT_PLUGIN));
    HttpConnection c(w.port());
    auto [head, chunks] = c.stream("POST", "/stream", R"({"payload": {"chunks": 5, "interval_ms": 100}})");
    CHECK(head.status == 200);
    CHECK(head.header("content-type") == "text/event-stream");
    CHECK(head.header("transfer-encoding") == "chunked");
    CHECK(head.header("x-testkit") == "stream");
    REQUIRE(chunks.size() == 5);
    for (int i = 0; i < 5; ++i) CHECK(chunks[i].data == "data: {\"index\": " + std::to_string(i) + "}\n\n");
    // The plugin waits 100 ms between chunks; a buffering relay would deliver them all at once.
    CHECK(chunks.back().arrived - chunks.front().arrived >= 300ms);
    // The connection stays usable after a stream.
    CHECK(c.request("POST", "/late", R"({"payload": {"ms": 1}})").status == 200);
}

TEST_CASE("a client that leaves cancels its request in the plugin", "[integration][contract][cancel]") {
    WorkerProcess w(artifact(TESTKIT_PLUGIN));
    {
        HttpConnection c(w.port());
        c.send_raw("POST /late HTTP/1.1\r\nHost: x\r\nContent-Length: 29\r\n\r\n{\"payload\": {\"ms\": 10000}}   ");
        REQUIRE(wait_metric(w.port(), "cppworker_requests_working", 1));
        c.close();
    }
    CHECK(w.wait_for_log("client 127.0.0.1"));
    CHECK(w.wait_for_log("seen cancelled"));
    // Completing a cancelled request is a harmless no-op that reports CPPW_CANCELLED (3).
    CHECK(w.wait_for_log("answered with status 3"));
    CHECK(http(w.port(), "GET", "/ping").body == "pong");
}

TEST_CASE("a client that leaves mid-stream stops the stream", "[integration][contract][cancel]") {
    WorkerProcess w(artifact(TESTKIT_PLUGIN));
    {
        HttpConnection c(w.port());
        c.send_raw("POST /stream HTTP/1.1\r\nHost: x\r\nContent-Length: 52\r\n\r\n"
                   "{\"payload\": {\"chunks\": 1000, \"interval_ms\": 10}}    ");
        REQUIRE(wait_metric(w.port(), "cppworker_requests_working", 1));
        c.close();
    }
    CHECK(w.wait_for_log("stream cancelled by the client"));
}

TEST_CASE("exceptions in an SDK plugin become 500 with their message", "[integration][contract]") {
    WorkerProcess w(artifact(TESTKIT_PLUGIN));
    auto r = http(w.port(), "POST", "/fail", R"({"payload": {}})");
    CHECK(r.status == 500);
    CHECK(r.body == R"({"error": "testkit was asked to fail"})");

    auto sizing = http(w.port(), "POST", "/late", R"({"payload": {"workload": "lots"}})");
    CHECK(sizing.status == 422);
    CHECK(http(w.port(), "GET", "/ping").status == 200);
}

TEST_CASE("handle that answers and then returns an error: the answer stands, counted as served",
          "[integration][contract]") {
    WorkerProcess w(artifact(TESTKIT_PLUGIN));
    const auto r = http(w.port(), "POST", "/answer_then_fail", R"({"payload": {}})");
    CHECK(r.status == 200);
    CHECK(r.body == R"({"answered": true})");
    CHECK(w.wait_for_log("handle answered the request, then returned an error (failed after answering)"));
    // A completed request is one the plugin can no longer answer: is_cancelled says so.
    CHECK(w.log().find("is_cancelled after the answer: 1") != std::string::npos);
    CHECK(metric(w.port(), "cppworker_requests_total{outcome=\"success\"}") == 1);
    CHECK(metric(w.port(), "cppworker_requests_total{outcome=\"error\"}") == 0);
}

TEST_CASE("an SDK Reply dropped without an answer answers 500", "[integration][contract]") {
    WorkerProcess w(artifact(TESTKIT_PLUGIN));
    auto r = http(w.port(), "POST", "/drop", R"({"payload": {}})");
    CHECK(r.status == 500);
    CHECK_THAT(r.body, Catch::Contains("dropped"));
}

TEST_CASE("an exception thrown across the raw C ABI is contained", "[integration][contract][zoo]") {
    WorkerProcess w(artifact(ZOO_HANDLE_THROWS_RAW_PLUGIN));
    auto r = http(w.port(), "POST", "/run", R"({"payload": {}})");
    CHECK(r.status == 500);
    CHECK_THAT(r.body, Catch::Contains("boom in handle"));
    CHECK(http(w.port(), "GET", "/ping").body == "pong");
}

TEST_CASE("a second completion is refused and the first answer stands", "[integration][contract][zoo]") {
    WorkerProcess w(artifact(ZOO_COMPLETES_TWICE_PLUGIN));
    HttpConnection c(w.port());
    auto r = c.request("POST", "/run", R"({"payload": {}})");
    CHECK(r.status == 200);
    CHECK(w.wait_for_log("second respond returned 4"));
    // Nothing extra was written on the connection: the next answer is the next request's.
    CHECK(c.request("GET", "/ping").body == "pong");
}

TEST_CASE("a request the plugin never completes times out with 504", "[integration][contract][zoo]") {
    WorkerProcess w(artifact(ZOO_NEVER_COMPLETES_PLUGIN), {"--request-timeout", "0.3"});
    HttpConnection c(w.port());
    auto r = c.request("POST", "/hang", R"({"payload": {}})");
    CHECK(r.status == 504);
    CHECK(r.keep_alive);
    CHECK(c.request("GET", "/ping").body == "pong");
    w.signal(SIGTERM);
    CHECK(w.wait_exit(10s) == 0);
}
