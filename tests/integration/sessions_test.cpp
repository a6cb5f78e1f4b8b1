// Sessions (core/protocol.md §4.5) and the self-update hook (§4.6).
#include "fake_http_server.hpp"
#include "http_client.hpp"
#include "worker_process.hpp"

#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include <filesystem>
#include <optional>
#include <regex>
#include <thread>

using namespace cppworker::test;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

const std::string auth = R"({"cost": 40, "endpoint": "e", "reqnum": 7, "request_idx": 70, "signature": "s", "url": "u"})";

std::string create_body(const std::string& payload) {
    return R"({"auth_data": )" + auth + R"(, "session_id": null, "payload": )" + payload + "}";
}

std::string query(const std::string& id, const std::string& session_auth = auth) {
    return R"({"session_id": ")" + id + R"(", "session_auth": )" + session_auth + "}";
}

std::string open_session(uint16_t port, const std::string& payload = R"({"lifetime": 60})") {
    auto r = http(port, "POST", "/session/create", create_body(payload));
    REQUIRE(r.status == 201);
    return std::string(json::parse(r.body).at("session_id").as_string());
}

}  // namespace

TEST_CASE("a session is created, read, checked and ended with PyWorker's answers", "[integration][sessions]") {
    WorkerProcess w(artifact(HELLO_WORLD_PLUGIN));
    auto created = http(w.port(), "POST", "/session/create",
                        create_body(R"({"lifetime": 30, "on_close_route": null, "on_close_payload": {"k": 1}})"));
    REQUIRE(created.status == 201);
    const auto c = json::parse(created.body).as_object();
    const std::string id(c.at("session_id").as_string());
    CHECK(id.size() == 32);
    CHECK(c.at("expiration").to_number<double>() > 1e9);
    // The session is metered as one working request with the route's cost.
    CHECK(metric(w.port(), "cppworker_requests_working") == 1);
    CHECK(metric(w.port(), "cppworker_load") == 40);

    auto got = http(w.port(), "POST", "/session/get", query(id));
    REQUIRE(got.status == 200);
    const auto g = json::parse(got.body).as_object();
    CHECK(g.at("session_id") == id.c_str());
    CHECK(g.at("auth_data") == json::parse(auth));
    CHECK(g.at("lifetime").to_number<double>() == 30);
    CHECK(g.at("on_close_payload") == json::parse(R"({"k": 1})"));
    CHECK(g.contains("created_at"));

    CHECK(http(w.port(), "POST", "/session/health", query(id)).body == R"({"ok": true})");
    auto wrong_auth = http(w.port(), "POST", "/session/get", query(id, R"({"cost": 1})"));
    CHECK(wrong_auth.status == 401);
    CHECK(wrong_auth.body == R"({"error": "session_auth is not valid"})");

    auto ended = http(w.port(), "POST", "/session/end", query(id));
    CHECK(ended.status == 200);
    CHECK(ended.body == R"({"ended": true, "removed_session": ")" + id + "\"}");
    CHECK(metric(w.port(), "cppworker_requests_working") == 0);

    auto again = http(w.port(), "POST", "/session/end", query(id));
    CHECK(again.status == 400);
    CHECK(again.body == R"({"error": "session with id )" + id + R"( not found"})");
    CHECK(http(w.port(), "POST", "/session/get", query(id)).body == R"({"error": "session does not exist"})");
    CHECK(http(w.port(), "POST", "/session/health", query(id)).body == R"({"ok": false})");
}

TEST_CASE("malformed session calls get 422", "[integration][sessions]") {
    WorkerProcess w(artifact(HELLO_WORLD_PLUGIN));
    CHECK(http(w.port(), "POST", "/session/get", "nope").body == R"({"error": "invalid JSON"})");
    CHECK(http(w.port(), "POST", "/session/end", "{}").body == R"({"error": "missing session_id"})");
    CHECK(http(w.port(), "POST", "/session/create", R"({"payload": {}})").status == 422);
    CHECK(http(w.port(), "GET", "/session/create").status == 405);
}

TEST_CASE("requests inside a session extend it, and an unknown session is gone (410)", "[integration][sessions]") {
    WorkerProcess w(artifact(HELLO_WORLD_PLUGIN));
    const auto id = open_session(w.port(), R"({"lifetime": 100})");
    const auto before = json::parse(http(w.port(), "POST", "/session/get", query(id)).body).at("expiration").to_number<double>();

    auto in_session = http(w.port(), "POST", "/increment",
                           R"({"auth_data": )" + auth + R"(, "session_id": ")" + id + R"(", "payload": {"amount": 3}})");
    CHECK(in_session.status == 200);
    const auto after = json::parse(http(w.port(), "POST", "/session/get", query(id)).body).at("expiration").to_number<double>();
    CHECK(after - before == Approx(100));
    // Work inside a session is not a second working request.
    CHECK(metric(w.port(), "cppworker_requests_working") == 1);

    auto gone = http(w.port(), "POST", "/increment", R"({"session_id": "NoSuchSession", "payload": {"amount": 1}})");
    CHECK(gone.status == 410);
    CHECK(gone.body == R"({"error": "invalid session"})");
}

TEST_CASE("more sessions than max_sessions get 429", "[integration][sessions]") {
    WorkerProcess w(artifact(HELLO_WORLD_PLUGIN), {"--max-sessions", "2"});
    open_session(w.port());
    open_session(w.port());
    auto third = http(w.port(), "POST", "/session/create", create_body("{}"));
    CHECK(third.status == 429);
    CHECK(third.body.empty());
    CHECK(metric(w.port(), "cppworker_requests_total{outcome=\"rejected\"}") == 1);
}

TEST_CASE("an expired session closes, aborts its requests and calls back", "[integration][sessions]") {
    FakeHttpServer callback([](const ReceivedRequest&) { return CannedAnswer{200, "{}"}; });
    WorkerProcess w(artifact(TESTKIT_PLUGIN), {"--model-server-url", callback.url()});
    const auto id = open_session(w.port(), R"({"lifetime": 1, "on_close_route": "/closed", "on_close_payload": {"who": "test"}})");

    // A request that would take far longer than the session lives.
    HttpConnection c(w.port());
    const std::string body = R"({"session_id": ")" + id + R"(", "payload": {"ms": 30000, "tag": "in the session"}})";
    c.send_raw("POST /late HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);

    // The expiry sweep runs every 5 s; the request extended the session by one more second.
    // (The testkit's health probe calls the same fake server; the callback is the POST.)
    std::optional<ReceivedRequest> got;
    const auto deadline = std::chrono::steady_clock::now() + 15s;
    while (!got && std::chrono::steady_clock::now() < deadline) {
        for (const auto& r : callback.received()) {
            if (r.method == "POST") got = r;
        }
        std::this_thread::sleep_for(20ms);
    }
    REQUIRE(got);
    CHECK(got->target == "/closed");
    CHECK(json::parse(got->body) == json::parse(R"({"who": "test", "session_id": ")" + id + "\"}"));
    CHECK(c.closed_by_peer(5s));
    // The plugin was told; the benchmark's requests log "late request" lines of their own.
    CHECK(w.wait_for_log("(in the session) seen cancelled"));
    CHECK(http(w.port(), "POST", "/session/health", query(id)).body == R"({"ok": false})");
}

TEST_CASE("a session ended while its stream waits on a client that reads nothing cuts the stream at once",
          "[integration][sessions]") {
    // A write to the client is given 300 s: only the session's end can cut this one short.
    WorkerProcess w(artifact(TESTKIT_PLUGIN), {"--read-timeout", "300", "--stream-high-water", "65536"});
    const auto id = open_session(w.port());
    HttpConnection c(w.port(), 10s, 4096);
    const std::string body =
        R"({"session_id": ")" + id + R"(", "payload": {"chunks": 100000, "bytes": 65536}})";
    c.send_raw("POST /flood HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
    // The client reads nothing: the worker's write to it waits, and so does the plugin.
    REQUIRE(w.wait_for_log("flood: still waiting for the client"));

    CHECK(http(w.port(), "POST", "/session/end", query(id)).status == 200);
    CHECK(w.wait_for_log("): aborted", 5s));
    // What the worker wrote before is still there to read; then the connection ends, well within
    // the client's 10 s read timeout.
    CHECK_NOTHROW(c.read_until_closed());
    CHECK(w.wait_for_log("flood: cancelled at chunk"));
}

TEST_CASE("POST /pyworker/update needs MASTER_TOKEN and writes the marker file", "[integration][update]") {
    const auto marker = std::filesystem::temp_directory_path() / ("cppworker-update-" + std::to_string(::getpid()));
    std::filesystem::remove(marker);
    WorkerProcess w(artifact(HELLO_WORLD_PLUGIN), {"--force-update-file", marker.string()}, {{"MASTER_TOKEN", "tok"}});

    HttpConnection c(w.port());
    auto refused = c.request("POST", "/pyworker/update", "", {{"Authorization", "Bearer wrong"}});
    CHECK(refused.status == 401);
    CHECK(refused.body == R"({"error": "unauthorized"})");
    CHECK(c.request("POST", "/pyworker/update").status == 401);
    CHECK_FALSE(std::filesystem::exists(marker));

    auto ok = c.request("POST", "/pyworker/update", "", {{"Authorization", "Bearer tok"}});
    CHECK(ok.status == 200);
    CHECK(ok.body == R"({"ok": true})");
    CHECK(std::filesystem::exists(marker));
    std::filesystem::remove(marker);
    CHECK(c.request("POST", "/pyworker/update", "", {{"Authorization", "tok"}}).status == 200);
    std::filesystem::remove(marker);

    WorkerProcess unwritable(artifact(HELLO_WORLD_PLUGIN), {"--force-update-file", "/nonexistent/dir/marker"},
                             {{"MASTER_TOKEN", "tok"}});
    auto failed = HttpConnection(unwritable.port()).request("POST", "/pyworker/update", "", {{"Authorization", "tok"}});
    CHECK(failed.status == 500);
    CHECK_THAT(failed.body, Catch::Contains("failed to write file"));
}

TEST_CASE("POST /pyworker/update is refused when no MASTER_TOKEN is set", "[integration][update]") {
    const auto marker = std::filesystem::temp_directory_path() / ("cppworker-noupdate-" + std::to_string(::getpid()));
    std::filesystem::remove(marker);
    WorkerProcess w(artifact(HELLO_WORLD_PLUGIN), {"--force-update-file", marker.string()}, {{"MASTER_TOKEN", ""}});
    HttpConnection c(w.port());
    auto bare = c.request("POST", "/pyworker/update");
    CHECK(bare.status == 401);
    CHECK(bare.body == R"({"error": "unauthorized"})");
    CHECK(c.request("POST", "/pyworker/update", "", {{"Authorization", "Bearer "}}).status == 401);
    CHECK_FALSE(std::filesystem::exists(marker));
}

TEST_CASE("session answers write numbers as Python does: the lifetime as sent, floats in full", "[integration][sessions]") {
    WorkerProcess w(artifact(HELLO_WORLD_PLUGIN));
    const std::regex python_float(R"(^\d+\.\d+$)");
    for (const std::string lifetime : {"30", "30.0", "2.5"}) {
        INFO("lifetime " << lifetime);
        auto created = http(w.port(), "POST", "/session/create", create_body(R"({"lifetime": )" + lifetime + "}"));
        REQUIRE(created.status == 201);
        // {"session_id": "...", "expiration": 1796182829.4837987}: json.dumps' separators, repr's digits.
        std::smatch m;
        REQUIRE(std::regex_match(created.body, m, std::regex(R"re(\{"session_id": "([0-9a-f]{32})", "expiration": ([^}]+)\})re")));
        CHECK(std::regex_match(m[2].str(), python_float));
        const std::string id = m[1];
        const auto got = http(w.port(), "POST", "/session/get", query(id)).body;
        CHECK_THAT(got, Catch::Contains(R"(, "lifetime": )" + lifetime + R"(, "expiration": )"));
        std::smatch times;
        REQUIRE(std::regex_search(got, times, std::regex(R"("expiration": ([^,]+), "created_at": ([^,]+),)")));
        CHECK(std::regex_match(times[1].str(), python_float));
        CHECK(std::regex_match(times[2].str(), python_float));
    }
    // Without a lifetime PyWorker's default is the float 60.0.
    auto created = http(w.port(), "POST", "/session/create", create_body("{}"));
    REQUIRE(created.status == 201);
    const std::string id(json::parse(created.body).at("session_id").as_string());
    CHECK_THAT(http(w.port(), "POST", "/session/get", query(id)).body, Catch::Contains(R"("lifetime": 60.0,)"));
}
