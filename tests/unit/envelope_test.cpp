#include "server/envelope.hpp"

#include <catch2/catch.hpp>

using cppworker::server::Envelope;
using cppworker::server::EnvelopeError;
using cppworker::server::parse_envelope;

namespace {
std::string error_of(std::string_view body, bool require_auth = false) {
    auto r = parse_envelope(body, require_auth);
    REQUIRE(std::holds_alternative<EnvelopeError>(r));
    return std::get<EnvelopeError>(r).body;
}
Envelope ok(std::string_view body, bool require_auth = false) {
    auto r = parse_envelope(body, require_auth);
    REQUIRE(std::holds_alternative<Envelope>(r));
    return std::get<Envelope>(r);
}
}  // namespace

TEST_CASE("envelope: the payload reaches the plugin as JSON text", "[unit][envelope]") {
    auto e = ok(R"({"auth_data": {"url": "http://x", "reqnum": 3, "request_idx": 4.0}, "session_id": "abc",
                    "payload": {"a": [1, 2]}})");
    CHECK(e.payload == R"({"a":[1,2]})");
    REQUIRE(e.auth_data);
    CHECK(e.auth_data->at("url") == "http://x");
    REQUIRE(e.who);
    CHECK(e.who->reqnum == 3);
    CHECK(e.who->request_idx == 4);
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
    CHECK(error_of(R"({"auth_data": {}})") == R"({"payload": "field missing"})");
    CHECK(error_of(R"({"payload": "text"})") == R"({"payload": {"data": "payload must be a dictionary"}})");
    CHECK(error_of(R"({"payload": 1, "auth_data": 2, "session_id": 3})") ==
          R"({"auth_data": "auth_data must be a dictionary", "payload": {"data": "payload must be a dictionary"},)"
          R"( "session_id": "session_id must be a string or null"})");
}

TEST_CASE("envelope: without signature checks a bare object is the payload", "[unit][envelope]") {
    CHECK(ok(R"({"amount": 1})").payload == R"({"amount":1})");
    CHECK(ok(R"({"payload": {"amount": 1}})").payload == R"({"amount":1})");
}

TEST_CASE("envelope: with signature checks auth_data and each field are required", "[unit][envelope]") {
    CHECK(error_of(R"({"amount": 1})", true) == R"({"auth_data": "field missing", "payload": "field missing"})");
    CHECK(error_of("", true) == R"({"auth_data": "field missing", "payload": "field missing"})");
    CHECK(error_of(R"({"auth_data": {"url": "u", "cost": 1, "endpoint": "e"}, "payload": {}})", true) ==
          R"({"auth_data": {"reqnum": "missing parameter", "request_idx": "missing parameter",)"
          R"( "signature": "missing parameter"}})");
    CHECK(error_of(R"({"auth_data": {"url": "u", "cost": 1, "endpoint": "e", "reqnum": "x", "request_idx": 1,)"
                   R"( "signature": "s"}, "payload": {}})", true) == R"({"auth_data": {"reqnum": "must be an integer"}})");
    auto e = ok(R"({"auth_data": {"url": "u", "cost": 1, "endpoint": "e", "reqnum": 1, "request_idx": 2,)"
                R"( "signature": "s", "extra": true}, "payload": {}})", true);
    CHECK(e.who->request_idx == 2);
}
