#include "server/envelope.hpp"

#include <catch2/catch.hpp>

using cppworker::server::Envelope;
using cppworker::server::EnvelopeError;
using cppworker::server::parse_envelope;

namespace {
std::string error_of(std::string_view body) {
    auto r = parse_envelope(body);
    REQUIRE(std::holds_alternative<EnvelopeError>(r));
    return std::get<EnvelopeError>(r).body;
}
Envelope ok(std::string_view body) {
    auto r = parse_envelope(body);
    REQUIRE(std::holds_alternative<Envelope>(r));
    return std::get<Envelope>(r);
}
}  // namespace

TEST_CASE("envelope: the payload reaches the plugin as JSON text", "[unit][envelope]") {
    auto e = ok(R"({"auth_data": {"url": "http://x"}, "session_id": "abc", "payload": {"a": [1, 2]}})");
    CHECK(e.payload == R"({"a":[1,2]})");
    CHECK(e.auth_data == R"({"url":"http://x"})");
    CHECK(e.session_id == "abc");
}

TEST_CASE("envelope: optional parts may be absent or null", "[unit][envelope]") {
    auto e = ok(R"({"payload": {}, "auth_data": null, "session_id": null})");
    CHECK(e.payload == "{}");
    CHECK_FALSE(e.auth_data);
    CHECK(e.session_id.empty());
}

TEST_CASE("envelope: an empty body is an empty payload", "[unit][envelope]") {
    CHECK(ok("").payload.empty());
    CHECK(ok(" \r\n").payload.empty());
}

TEST_CASE("envelope: bad JSON and bad fields are named", "[unit][envelope]") {
    CHECK(error_of("{") == R"({"error": "invalid JSON"})");
    CHECK(error_of("[1]") == R"({"error": "invalid JSON"})");
    CHECK(error_of(R"({"x": 1})") == R"({"payload":"field missing"})");
    CHECK(error_of(R"({"payload": "text"})") == R"({"payload":{"data":"payload must be a dictionary"}})");
    CHECK(error_of(R"({"payload": 1, "auth_data": 2, "session_id": 3})") ==
          R"({"payload":{"data":"payload must be a dictionary"},"auth_data":"auth_data must be a dictionary",)"
          R"("session_id":"session_id must be a string or null"})");
}
