// Streams a plugin begins and then fails, abandons by an exception, stalls or floods: the client
// sees the answer end at once (a truncated chunked body), the request counts as failed, and the
// worker's memory stays bounded whatever the plugin queues.
#include "http_client.hpp"
#include "worker_process.hpp"

#include <catch2/catch.hpp>

using namespace cppworker::test;
using namespace std::chrono_literals;

namespace {
void post(HttpConnection& c, std::string_view path, std::string_view body = R"({"payload": {}})") {
    c.send_raw("POST " + std::string(path) + " HTTP/1.1\r\nHost: x\r\nContent-Length: " +
               std::to_string(body.size()) + "\r\n\r\n" + std::string(body));
}
}  // namespace

TEST_CASE("a stream whose handle fails after beginning it is cut short and counted as failed",
          "[integration][streams][zoo]") {
    for (const char* plugin : {ZOO_STREAM_THEN_FAILS_PLUGIN, ZOO_STREAM_THEN_THROWS_PLUGIN}) {
        INFO(plugin);
        WorkerProcess w(artifact(plugin));
        HttpConnection c(w.port(), 5s);  // a client left waiting would time out here
        post(c, "/stream");
        const auto answer = c.read_stream();
        CHECK(answer.head.status == 200);
        CHECK(answer.body == "first chunk\n");
        CHECK_FALSE(answer.complete);
        CHECK(wait_metric(w.port(), "cppworker_requests_total{outcome=\"error\"}", 1));
        CHECK(w.wait_for_log("the model went away mid-stream"));
    }
}

TEST_CASE("a plugin stream with no write for --stream-idle-timeout is cut and the plugin sees it cancelled",
          "[integration][streams][zoo]") {
    WorkerProcess w(artifact(ZOO_STREAM_STALLS_PLUGIN), {"--stream-idle-timeout", "0.5"});
    HttpConnection c(w.port(), 10s);
    post(c, "/stall");
    const auto answer = c.read_stream();
    CHECK(answer.head.status == 200);
    CHECK(answer.body == "first chunk\n");
    CHECK_FALSE(answer.complete);
    CHECK(w.wait_for_log("stall: the host cancelled the request"));
    CHECK(w.wait_for_log("wrote nothing for 500 ms"));
    CHECK(wait_metric(w.port(), "cppworker_requests_total{outcome=\"error\"}", 1));
}

TEST_CASE("a plugin that ignores backpressure has its stream cut at the hard limit", "[integration][streams][zoo]") {
    WorkerProcess w(artifact(ZOO_STREAM_FLOODS_PLUGIN), {"--stream-high-water", "65536"});
    HttpConnection c(w.port(), 10s);
    post(c, "/flood");
    // The client reads nothing: what the plugin writes piles up in the worker until the limit.
    REQUIRE(w.wait_for_log("flood: refused with status 3"));
    CHECK(w.wait_for_log("ignoring backpressure; stream cut short"));
    CHECK(wait_metric(w.port(), "cppworker_requests_total{outcome=\"error\"}", 1));
    // Cut mid-stream, or before its head went out (then the client gets a 500): never left hanging.
    const auto answer = c.read_stream();
    CHECK(((answer.head.status == 200 && !answer.complete) || answer.head.status == 500));
    CHECK(metric(w.port(), "cppworker_registered_requests") == 0);
}
