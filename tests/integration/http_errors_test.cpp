#include "http_client.hpp"
#include "worker_process.hpp"

#include <catch2/catch.hpp>

#include <thread>

using namespace cppworker::test;
using namespace std::chrono_literals;

TEST_CASE("keep-alive carries many requests on one connection", "[integration][http]") {
    WorkerProcess w(artifact(HELLO_WORLD_PLUGIN));
    HttpConnection c(w.port());
    for (int i = 1; i <= 20; ++i) {
        auto r = c.request("POST", "/increment", R"({"payload": {"amount": 1}})");
        REQUIRE(r.status == 200);
        CHECK(r.keep_alive);
        CHECK(r.body == "{\"value\":" + std::to_string(i) + "}");
    }
    auto last = c.request("GET", "/value", "", {{"Connection", "close"}});
    CHECK(last.body == R"({"value":20})");
    CHECK_FALSE(last.keep_alive);
    CHECK(c.closed_by_peer(2s));
}

TEST_CASE("unknown route 404, wrong method 405 with Allow", "[integration][http]") {
    WorkerProcess w(artifact(HELLO_WORLD_PLUGIN));
    auto missing = http(w.port(), "POST", "/nope", R"({"payload": {}})");
    CHECK(missing.status == 404);
    CHECK(missing.body == R"({"error": "no route /nope"})");

    auto wrong = http(w.port(), "GET", "/increment");
    CHECK(wrong.status == 405);
    CHECK(wrong.header("allow") == "POST");
    CHECK_THAT(wrong.body, Catch::Contains("/increment takes POST, not GET"));
}

TEST_CASE("malformed envelopes get 422 with a JSON body naming the problem", "[integration][http]") {
    WorkerProcess w(artifact(HELLO_WORLD_PLUGIN));
    auto not_json = http(w.port(), "POST", "/increment", "{not json");
    CHECK(not_json.status == 422);
    CHECK(not_json.header("content-type") == "application/json");
    CHECK(not_json.body == R"({"error": "invalid JSON"})");

    CHECK(http(w.port(), "POST", "/increment", R"({"auth_data": null})").body == R"({"payload": "field missing"})");
    CHECK(http(w.port(), "POST", "/increment", R"({"payload": [1]})").body ==
          R"({"payload": {"data": "payload must be a dictionary"}})");
    CHECK(http(w.port(), "POST", "/increment", "").status == 422);
}

TEST_CASE("oversize body 413, oversize head 431", "[integration][http]") {
    WorkerProcess w(artifact(HELLO_WORLD_PLUGIN), {"--max-body-bytes", "1000", "--max-header-bytes", "2048"});
    const std::string big = R"({"payload": {"prompt": ")" + std::string(2000, 'x') + "\"}}";
    auto body = http(w.port(), "POST", "/generate", big);
    CHECK(body.status == 413);
    CHECK_THAT(body.body, Catch::Contains("over 1000 bytes"));

    HttpConnection c(w.port());
    auto head = c.request("GET", "/value", "", {{"X-Filler", std::string(4000, 'y')}});
    CHECK(head.status == 431);
    CHECK(c.closed_by_peer(2s));

    // The limits refuse what is too big, nothing else.
    CHECK(http(w.port(), "POST", "/generate", R"({"payload": {"prompt": "small"}})").status == 200);
}

TEST_CASE("the body and head limits admit exactly their maximum", "[integration][http]") {
    WorkerProcess w(artifact(HELLO_WORLD_PLUGIN), {"--max-body-bytes", "1000", "--max-header-bytes", "2048"});
    // A valid envelope of exactly n bytes.
    const auto body_of = [](std::size_t n) {
        const std::string prefix = R"({"payload": {"prompt": ")", suffix = "\"}}";
        return prefix + std::string(n - prefix.size() - suffix.size(), 'x') + suffix;
    };
    CHECK(http(w.port(), "POST", "/generate", body_of(1000)).status == 200);
    CHECK(http(w.port(), "POST", "/generate", body_of(1001)).status == 413);

    // A head of exactly n bytes, request line and blank line included.
    const auto head_of = [](std::size_t n) {
        const std::string start = "GET /value HTTP/1.1\r\nHost: x\r\nX-Filler: ", end = "\r\n\r\n";
        return start + std::string(n - start.size() - end.size(), 'y') + end;
    };
    for (const auto& [size, status] : {std::pair{std::size_t{2048}, 200}, std::pair{std::size_t{2049}, 431}}) {
        HttpConnection c(w.port());
        c.send_raw(head_of(size));
        CHECK(c.read_response().status == status);
    }
}

TEST_CASE("Expect: 100-continue with a body over the limit gets 413 and no go-ahead", "[integration][http]") {
    WorkerProcess w(artifact(HELLO_WORLD_PLUGIN), {"--max-body-bytes", "1000"});
    HttpConnection c(w.port());
    c.send_raw("POST /generate HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 1001\r\n\r\n");
    const auto r = c.read_response();
    CHECK(r.status == 413);
    CHECK_FALSE(r.keep_alive);
    CHECK(c.closed_by_peer(2s));
}

TEST_CASE("a client too slow to send its request gets 408", "[integration][http]") {
    WorkerProcess w(artifact(HELLO_WORLD_PLUGIN), {"--read-timeout", "0.3"});
    HttpConnection c(w.port());
    c.send_raw("POST /increment HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"payload\"");
    auto r = c.read_response();
    CHECK(r.status == 408);
    CHECK_FALSE(r.keep_alive);
    CHECK(c.closed_by_peer(2s));
    CHECK(http(w.port(), "GET", "/value").body == R"({"value":0})");
}

TEST_CASE("a malformed request line gets 400", "[integration][http]") {
    WorkerProcess w(artifact(HELLO_WORLD_PLUGIN));
    HttpConnection c(w.port());
    c.send_raw("THIS IS NOT HTTP\r\n\r\n");
    CHECK(c.read_response().status == 400);
}

TEST_CASE("Expect: 100-continue gets its interim answer before the body is sent", "[integration][http]") {
    WorkerProcess w(artifact(HELLO_WORLD_PLUGIN));
    HttpConnection c(w.port());
    const std::string body = R"({"payload": {"prompt": "waiting for the go-ahead"}})";
    c.send_raw("POST /generate HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: " +
               std::to_string(body.size()) + "\r\n\r\n");
    // Nothing more is sent until the server says go on.
    CHECK(c.read_response().status == 100);
    c.send_raw(body);
    auto r = c.read_response();
    CHECK(r.status == 200);
    CHECK(r.body == R"({"generated_text":"waiting for the go-ahead"})");
}
