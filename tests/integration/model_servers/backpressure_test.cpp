// A client that stops reading holds up whoever produces its stream (--stream-high-water): the model
// server behind a relay, or a plugin that honours CPPW_BACKPRESSURE with stream_wait. Nothing is
// buffered without bound in the worker, and nothing is lost once the client reads again.
//
// The kernel holds some of the stream in socket buffers whatever the worker does: the model
// server's send buffer and the worker's send buffer to the client, each at most tcp_wmem's maximum
// on loopback (the worker's receive buffer stays small while it does not read, and the client's is
// set small). Each stream here is several times that, so that only a worker that stops reading can
// hold its producer.
#include "fake_model_server.hpp"
#include "http_client.hpp"
#include "worker_process.hpp"

#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <fstream>
#include <thread>

using namespace cppworker::test;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

constexpr int small_receive_buffer = 4096;
// Once the producer is held, the client reads with an ordinary buffer: a window of a few KB on
// loopback's 64 KB segments leaves the sender waiting on zero-window probes, at a few KB a second.
constexpr int normal_receive_buffer = 4 * 1024 * 1024;

// The largest send buffer the kernel grows a TCP socket to (tcp_wmem's third field).
std::int64_t max_send_buffer() {
    std::ifstream in("/proc/sys/net/ipv4/tcp_wmem");
    std::int64_t min = 0, initial = 0, max = 0;
    in >> min >> initial >> max;
    return max > 0 ? max : 4 * 1024 * 1024;
}

std::string request_bytes(std::string_view target, const std::string& body) {
    return "POST " + std::string(target) + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" +
           "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

std::string stream_request(std::int64_t tokens) {
    return json::serialize(json::object{
        {"target", "/generate_stream"},
        {"body", {{"inputs", "What is deep learning?"}, {"parameters", {{"max_new_tokens", tokens}}}}}});
}

}  // namespace

TEST_CASE("backpressure: a client that stops reading holds the model server's stream and then gets it whole",
          "[integration][forward][backpressure]") {
    constexpr std::int64_t padding = 16 * 1024;
    // Token events, plus TGI's last event repeating all their text: about 2 x tokens x padding in
    // all, the token events alone more than the kernel can hold.
    const std::int64_t tokens = std::max<std::int64_t>(640, 3 * max_send_buffer() / padding);
    FakeModelServer fake("tgi", {"--token-delay", "0", "--token-padding", std::to_string(padding)});
    REQUIRE(fake.wait_loaded());
    WorkerProcess w(artifact(TESTKIT_PLUGIN), {"--stream-high-water", "65536"},
                    {{"UNSECURED", "true"}, {"MODEL_SERVER_URL", fake.url()}});

    HttpConnection c(w.port(), 20s, small_receive_buffer);
    c.send_raw(request_bytes("/relay", stream_request(tokens)));

    // Held: the fake is stuck in a write, and its byte count stays put from one look to the next
    // for a while. A worker that kept reading would instead let it finish: that ends the wait too.
    std::int64_t last_bytes = -1;
    int unchanged = 0;
    const bool settled = fake.wait_for(
        [&](const json::object& s) {
            if (stat(s, "completed") > 0) return true;
            const auto bytes = stat(s, "stream_bytes");
            unchanged = stat(s, "stalled_writers") == 1 && bytes == last_bytes ? unchanged + 1 : 0;
            last_bytes = bytes;
            return unchanged >= 25;
        },
        30s);
    REQUIRE(settled);
    const auto held = fake.stats();
    INFO("fake stats while the client does not read: " << json::serialize(held));
    REQUIRE(stat(held, "completed") == 0);
    CHECK(stat(held, "in_flight") == 1);
    CHECK(stat(held, "write_stalls") >= 1);
    // Less than the token events alone: nowhere near the whole answer.
    CHECK(stat(held, "stream_bytes") < tokens * padding);

    c.set_receive_buffer(normal_receive_buffer);
    const auto res = c.read_response();
    CHECK(res.status == 200);
    CHECK(res.header("transfer-encoding") == "chunked");
    CHECK(count(res.body, "data:") == static_cast<std::size_t>(tokens));
    const std::string last_token = "\"index\":" + std::to_string(tokens) + ",";
    CHECK(res.body.find(last_token) != std::string::npos);
    // The final event's generated_text holds every token's text, in order.
    const auto text_at = res.body.rfind("\"generated_text\":\" tok0_");
    REQUIRE(text_at != std::string::npos);
    CHECK(count(std::string_view(res.body).substr(text_at), " tok") == static_cast<std::size_t>(tokens));
    CHECK(fake.wait_for([](const json::object& s) { return stat(s, "completed") == 1; }));
    CHECK(wait_metric(w.port(), "cppworker_requests_total{outcome=\"success\"}", 1));
    CHECK(metric(w.port(), "cppworker_upstream_failures_total") == 0);
}

TEST_CASE("backpressure: a plugin stream waits in stream_wait while the client does not read and then completes",
          "[integration][contract][stream][backpressure]") {
    constexpr std::int64_t chunk_bytes = 64 * 1024;
    const std::int64_t chunks = std::max<std::int64_t>(200, 4 * max_send_buffer() / chunk_bytes);
    WorkerProcess w(artifact(TESTKIT_PLUGIN), {"--stream-high-water", "262144"}, {{"UNSECURED", "true"}});

    HttpConnection c(w.port(), 20s, small_receive_buffer);
    c.send_raw(request_bytes("/flood", json::serialize(json::object{{"chunks", chunks}, {"bytes", chunk_bytes}})));

    // A wait that ran out means the queue did not drain while the client did not read. A worker
    // without backpressure lets the plugin write everything at once: it says "done" instead.
    const bool settled = [&] {
        const auto deadline = std::chrono::steady_clock::now() + 30s;
        while (std::chrono::steady_clock::now() < deadline) {
            const auto log = w.log();
            if (log.find("flood: still waiting") != std::string::npos || log.find("flood: done") != std::string::npos) {
                return true;
            }
            std::this_thread::sleep_for(20ms);
        }
        return false;
    }();
    REQUIRE(settled);
    INFO("worker log:\n" << w.log());
    REQUIRE(w.log().find("flood: done") == std::string::npos);

    c.set_receive_buffer(normal_receive_buffer);
    const auto res = c.read_response();
    CHECK(res.status == 200);
    REQUIRE(res.body.size() == static_cast<std::size_t>(chunks * chunk_bytes));
    int misplaced = 0;
    for (std::int64_t i = 0; i < chunks; ++i) {
        std::string index = std::to_string(i);
        index.insert(0, 12 - index.size(), '0');
        if (res.body.compare(static_cast<std::size_t>(i * chunk_bytes), 12, index) != 0) ++misplaced;
    }
    CHECK(misplaced == 0);
    CHECK(w.wait_for_log("flood: done, " + std::to_string(chunks) + " chunks"));
    CHECK(wait_metric(w.port(), "cppworker_requests_total{outcome=\"success\"}", 1));
}
