// The core's model-server client, through the testkit plugin's forwarding routes and a fake TGI
// as the model server: streaming without buffering, kept-alive connections, disconnects reaching
// the model server, and clear 502 / 504 answers.
#include "fake_model_server.hpp"
#include "http_client.hpp"
#include "worker_process.hpp"

#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/json.hpp>

#include <thread>

using namespace cppworker::test;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {
std::map<std::string, std::string> worker_env(const std::string& model_server_url) {
    return {{"UNSECURED", "true"}, {"MODEL_SERVER_URL", model_server_url}};
}

std::string generate(int tokens, std::string_view target = "/generate") {
    return json::serialize(json::object{
        {"target", target},
        {"body", {{"inputs", "What is deep learning?"}, {"parameters", {{"max_new_tokens", tokens}}}}}});
}

// A port nothing listens on: bound once, then released.
uint16_t closed_port() {
    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    return a.local_endpoint().port();
}
}  // namespace

TEST_CASE("forwarding: a stream is relayed chunk by chunk as the model server sends it", "[integration][forward]") {
    FakeModelServer fake("tgi", {"--token-delay", "0.1"});
    REQUIRE(fake.wait_loaded());
    WorkerProcess w(artifact(TESTKIT_PLUGIN), {}, worker_env(fake.url()));

    HttpConnection c(w.port());
    auto [res, chunks] = c.stream("POST", "/relay", generate(8, "/generate_stream"));
    CHECK(res.status == 200);
    CHECK(res.header("content-type").starts_with("text/event-stream"));
    std::string body;
    for (const auto& chunk : chunks) body += chunk.data;
    CHECK(count(body, "data:") == 8);
    CHECK(body.find("\"generated_text\"") != std::string::npos);
    // Eight tokens 100 ms apart: unbuffered, the first is with the client long before the last.
    REQUIRE(chunks.size() >= 4);
    CHECK(chunks.back().arrived - chunks.front().arrived >= 500ms);
    CHECK(wait_metric(w.port(), "cppworker_requests_total{outcome=\"success\"}", 1));
}

TEST_CASE("forwarding: a whole answer keeps the model server's status and body, connections are kept alive",
          "[integration][forward]") {
    FakeModelServer fake("tgi", {"--token-delay", "0"});
    REQUIRE(fake.wait_loaded());
    // Each event loop keeps its own model-server connections; new client connections take the
    // loops in turn.
    WorkerProcess w(artifact(TESTKIT_PLUGIN), {"--io-threads", "2"}, worker_env(fake.url()));

    for (int i = 0; i < 5; ++i) {
        const auto res = http(w.port(), "POST", "/relay", generate(3));
        REQUIRE(res.status == 200);
        CHECK(res.header("content-type").starts_with("application/json"));
        CHECK(json::parse(res.body).as_object().at("generated_text").as_string() == " tok0 tok1 tok2");
    }
    // The model server's own refusal passes through, and counts as served (core/protocol.md §4.3).
    const auto invalid = http(w.port(), "POST", "/relay", R"({"target": "/generate", "body": {"inputs": "x", "parameters": {"max_new_tokens": 0}}})");
    CHECK(invalid.status == 422);
    CHECK(json::parse(invalid.body).as_object().at("error_type") == "validation");
    CHECK(wait_metric(w.port(), "cppworker_requests_total{outcome=\"success\"}", 6));

    CHECK(stat(fake.stats(), "requests") == 6);
    // One connection per loop carried all six; the fake may also have seen the readiness health probe's.
    CHECK(stat(fake.stats(), "connections") <= 3);
    CHECK(wait_metric(w.port(), "cppworker_upstream_connections_opened_total", 2));
    CHECK(wait_metric(w.port(), "cppworker_upstream_requests_total", 6));
}

TEST_CASE("forwarding: a plugin's own headers go along, but the framing, the connection and Host stay the core's",
          "[integration][forward]") {
    FakeModelServer fake("tgi", {"--token-delay", "0"});
    REQUIRE(fake.wait_loaded());
    // One event loop, so that both requests share one pooled model-server connection.
    WorkerProcess w(artifact(TESTKIT_PLUGIN), {"--io-threads", "1"}, worker_env(fake.url()));
    auto request = json::parse(generate(2)).as_object();
    request["headers"] = {{"X-Trace", "abc"}, {"Host", "elsewhere.example"}, {"Content-Length", "5"},
                          {"Transfer-Encoding", "chunked"}, {"Connection", "close"}};
    for (int i = 0; i < 2; ++i) CHECK(http(w.port(), "POST", "/relay", json::serialize(request)).status == 200);

    const auto stats = fake.stats();
    const auto& headers = stats.at("last_headers").as_object();
    CHECK(headers.at("x-trace") == "abc");
    const std::string url = fake.url();
    CHECK(headers.at("host").as_string() == url.substr(url.find("//") + 2));
    CHECK(headers.at("content-length").as_string() == std::to_string(json::serialize(request.at("body")).size()));
    CHECK_FALSE(headers.contains("transfer-encoding"));
    CHECK_FALSE(headers.contains("connection"));
    // Kept alive despite the plugin's "Connection: close": the second request reused the first's connection.
    CHECK(wait_metric(w.port(), "cppworker_upstream_connections_opened_total", 1));
}

TEST_CASE("forwarding: a kept-alive connection the model server closed is replaced without the client noticing",
          "[integration][forward]") {
    FakeModelServer fake("tgi", {"--token-delay", "0", "--keep-alive-timeout", "0.2"});
    REQUIRE(fake.wait_loaded());
    WorkerProcess w(artifact(TESTKIT_PLUGIN), {}, worker_env(fake.url()));
    for (int i = 1; i <= 3; ++i) {
        CHECK(http(w.port(), "POST", "/relay", generate(2)).status == 200);
        // The model server closes the pooled connection before the next request takes it.
        REQUIRE(fake.wait_for([i](const json::object& s) { return stat(s, "idle_closes") >= i; }));
    }
    CHECK(stat(fake.stats(), "requests") == 3);
    CHECK(wait_metric(w.port(), "cppworker_upstream_failures_total", 0));
    CHECK(metric(w.port(), "cppworker_upstream_connections_opened_total") >= 3);
}

TEST_CASE("forwarding: a client that leaves mid-stream closes the model server's request at once",
          "[integration][forward]") {
    FakeModelServer fake("tgi", {"--token-delay", "0.1"});
    REQUIRE(fake.wait_loaded());
    WorkerProcess w(artifact(TESTKIT_PLUGIN), {}, worker_env(fake.url()));
    {
        HttpConnection c(w.port());
        const auto body = generate(200, "/generate_stream");
        c.send_raw("POST /relay HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
                   std::to_string(body.size()) + "\r\n\r\n" + body);
        // Mid-stream: the model server has begun its answer.
        REQUIRE(fake.wait_for([](const json::object& s) {
            return stat(s, "in_flight") == 1 && stat(s, "stream_bytes") > 0;
        }));
    }
    // 200 tokens would take 20 s; the model server hears of the disconnect within a token or two.
    CHECK(fake.wait_for([](const json::object& s) { return stat(s, "disconnects") == 1; }, 3s));
    CHECK(stat(fake.stats(), "completed") == 0);
    CHECK(wait_metric(w.port(), "cppworker_requests_total{outcome=\"cancelled\"}", 1));
}

TEST_CASE("forwarding: a model server that is down gets 502, counted as an error", "[integration][forward]") {
    WorkerProcess w(artifact(TESTKIT_PLUGIN), {},
                    worker_env("http://127.0.0.1:" + std::to_string(closed_port())));
    const auto res = http(w.port(), "POST", "/relay", generate(2));
    CHECK(res.status == 502);
    CHECK_THAT(res.body, Catch::Contains("cannot connect to the model server"));
    CHECK(wait_metric(w.port(), "cppworker_requests_total{outcome=\"error\"}", 1));
    CHECK(wait_metric(w.port(), "cppworker_upstream_failures_total", 1));
    CHECK(w.wait_for_log("forward to the model server failed"));
}

TEST_CASE("forwarding: without a model server address the answer says which setting is missing",
          "[integration][forward]") {
    WorkerProcess w(artifact(TESTKIT_PLUGIN), {}, {{"UNSECURED", "true"}});
    const auto res = http(w.port(), "POST", "/relay", generate(2));
    CHECK(res.status == 502);
    CHECK_THAT(res.body, Catch::Contains("MODEL_SERVER_URL"));
}

TEST_CASE("forwarding: a hung model server gets 504 after the upstream timeout, and its connection closed",
          "[integration][forward]") {
    FakeModelServer fake("tgi", {"--hang"});
    REQUIRE(fake.wait_loaded());
    WorkerProcess w(artifact(TESTKIT_PLUGIN), {"--upstream-timeout", "0.5"}, worker_env(fake.url()));
    const auto started = std::chrono::steady_clock::now();
    const auto res = http(w.port(), "POST", "/relay", generate(2));
    const auto took = std::chrono::steady_clock::now() - started;
    CHECK(res.status == 504);
    CHECK_THAT(res.body, Catch::Contains("the model server sent nothing for 500 ms"));
    // Load can only lengthen it; the ceiling tells the upstream timeout from --request-timeout's 600 s.
    CHECK(took >= 450ms);
    CHECK(took < 10s);
    CHECK(fake.wait_for([](const json::object& s) { return stat(s, "disconnects") == 1; }, 10s));
    CHECK(wait_metric(w.port(), "cppworker_requests_total{outcome=\"error\"}", 1));
}

TEST_CASE("forwarding: a plugin can rewrite the whole answer", "[integration][forward]") {
    FakeModelServer fake("tgi", {"--token-delay", "0"});
    REQUIRE(fake.wait_loaded());
    WorkerProcess w(artifact(TESTKIT_PLUGIN), {}, worker_env(fake.url()));
    const auto res = http(w.port(), "POST", "/wrap", generate(2));
    REQUIRE(res.status == 200);
    const auto wrapped = json::parse(res.body).as_object();
    CHECK(wrapped.at("upstream_status") == 200);
    CHECK(wrapped.at("streaming") == false);
    CHECK(json::parse(wrapped.at("body").as_string()).as_object().at("generated_text") == " tok0 tok1");
}

TEST_CASE("forwarding: a plugin sees a stream piece by piece and passes it on as it comes", "[integration][forward]") {
    FakeModelServer fake("tgi", {"--token-delay", "0.1"});
    REQUIRE(fake.wait_loaded());
    WorkerProcess w(artifact(TESTKIT_PLUGIN), {}, worker_env(fake.url()));
    HttpConnection c(w.port());
    auto [res, chunks] = c.stream("POST", "/tee", generate(6, "/generate_stream"));
    CHECK(res.status == 200);
    std::string body;
    for (const auto& chunk : chunks) body += chunk.data;
    CHECK(count(body, "\"token\"") == 6);
    CHECK(body.find("tee_pieces") != std::string::npos);
    REQUIRE(chunks.size() >= 4);
    CHECK(chunks.back().arrived - chunks.front().arrived >= 400ms);
}

TEST_CASE("forwarding: a plugin can chain requests to the model server for one client request",
          "[integration][forward]") {
    FakeModelServer fake("tgi");
    REQUIRE(fake.wait_loaded());
    WorkerProcess w(artifact(TESTKIT_PLUGIN), {}, worker_env(fake.url()));
    const auto res = http(w.port(), "POST", "/chain", R"({"first": "/health", "then": "/info"})");
    REQUIRE(res.status == 200);
    const auto answer = json::parse(res.body).as_object();
    CHECK(answer.at("first") == 200);
    CHECK(answer.at("then") == 200);
    CHECK(json::parse(answer.at("then_body").as_string()).as_object().contains("model_id"));
}

TEST_CASE("forwarding: MODEL_HEALTH_ENDPOINT replaces the plugin's health path, or turns the probe off",
          "[integration][forward]") {
    FakeModelServer fake("tgi");
    REQUIRE(fake.wait_loaded());
    const auto wait_ready = [](const WorkerProcess& w) {
        const auto deadline = std::chrono::steady_clock::now() + 10s;
        while (std::chrono::steady_clock::now() < deadline) {
            if (http(w.port(), "GET", "/readyz").status == 200) return true;
            std::this_thread::sleep_for(20ms);
        }
        return false;
    };
    {
        auto env = worker_env(fake.url());
        env["MODEL_HEALTH_ENDPOINT"] = "/info";
        WorkerProcess w(artifact(TESTKIT_PLUGIN), {}, env);
        CHECK(wait_ready(w));
        CHECK(w.log().find("model server healthy at /info") != std::string::npos);
    }
    {
        auto env = worker_env(fake.url());
        env["MODEL_HEALTH_ENDPOINT"] = "none";
        WorkerProcess w(artifact(TESTKIT_PLUGIN), {}, env);
        CHECK(wait_ready(w));
        CHECK(w.log().find("model server healthy") == std::string::npos);
    }
}

TEST_CASE("forwarding: requests pipelined behind a slow forwarded one are all answered, in order",
          "[integration][forward][http]") {
    FakeModelServer fake("tgi", {"--token-delay", "0.05"});
    REQUIRE(fake.wait_loaded());
    WorkerProcess w(artifact(TESTKIT_PLUGIN), {}, worker_env(fake.url()));
    const auto post = [](const std::string& body) {
        return "POST /relay HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
               std::to_string(body.size()) + "\r\n\r\n" + body;
    };
    HttpConnection c(w.port());
    // The first takes 20 tokens (1 s); the worker watches the client meanwhile and reads the others.
    c.send_raw(post(generate(20)));
    REQUIRE(fake.wait_for([](const json::object& s) { return stat(s, "in_flight") == 1; }));
    c.send_raw(post(generate(1)) + post(generate(2)) + post(generate(3)));
    for (const int tokens : {20, 1, 2, 3}) {
        const auto r = c.read_response();
        REQUIRE(r.status == 200);
        CHECK(count(r.body, "tok") == static_cast<std::size_t>(tokens));
    }
    CHECK(stat(fake.stats(), "requests") == 4);
}
