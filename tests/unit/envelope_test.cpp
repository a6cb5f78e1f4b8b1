#include "auth/signature_message.hpp"
#include "pipeline/envelope.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

using cppworker::pipeline::Envelope;
using cppworker::pipeline::EnvelopeError;
using cppworker::pipeline::parse_envelope;

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

TEST_CASE("envelope: a float in auth_data is signed with the digits Python printed", "[unit][envelope]") {
    // Each text and Python's repr(float(text)). Boost.JSON 1.81 reads each of these an ulp or more
    // off (1899341278.4556139 as the double that prints 1899341278.455614), so the all-fields
    // message would differ from the one Vast signed and a correctly signed request would get 401.
    const std::pair<std::string, std::string> floats[] = {
        {"1899341278.4556139", "1899341278.4556139"}, {"9493.062727723549", "9493.062727723549"},
        {"7557694602.3662281", "7557694602.366228"},  {"1688.0720513548479", "1688.0720513548479"},
        {"417411057.44558316", "417411057.44558316"}, {"1955469150.3385386", "1955469150.3385386"},
        {"0e999", "0.0"},  // Boost.JSON 1.81 reads NaN
    };
    for (const auto& [text, repr] : floats) {
        INFO("cost: " << text);
        const auto e = ok(R"({"auth_data": {"cost": )" + text + R"(, "endpoint": "ep", "reqnum": 5, "request_idx": 7,)"
                          R"( "signature": "s", "url": "http://x:1"}, "payload": {}})", true);
        REQUIRE(e.auth_data);
        CHECK(cppworker::auth::all_fields_message(*e.auth_data) ==
              "{\n    \"cost\": " + repr + ",\n    \"endpoint\": \"ep\",\n    \"reqnum\": 5,\n    \"request_idx\": 7,\n"
              "    \"url\": \"http://x:1\"\n}");
    }
    // And any 17-digit float: the cost kept is the double strtod (correctly rounded) reads.
    std::mt19937_64 random(20261202);
    std::uniform_real_distribution<double> costs(0.0, 1e10);
    for (int i = 0; i < 1000; ++i) {
        char text[40];
        std::snprintf(text, sizeof text, "%.17g", costs(random));
        INFO("cost: " << text);
        const auto e = ok(std::string(R"({"auth_data": {"cost": )") + text + R"(}, "payload": {}})");
        REQUIRE(e.auth_data);
        CHECK(e.auth_data->at("cost").to_number<double>() == std::strtod(text, nullptr));
    }
}

TEST_CASE("envelope: a reqnum or request_idx outside int64 is not an integer", "[unit][envelope]") {
    // Converting such a double to int64 was undefined behaviour (UBSan: "8e+19 is outside the
    // range of representable values of type 'long'"); it is refused before any conversion.
    for (const std::string number : {"1e300", "-1e300", "9223372036854775808.0", "-9223372036854777856.0", "8e19",
                                     "79999999999999999999", "1e400", "-1e400", "18446744073709551615"}) {
        INFO("number: " << number);
        CHECK(error_of(R"({"auth_data": {"reqnum": )" + number + R"(, "request_idx": 1}, "payload": {}})") ==
              R"({"auth_data": {"reqnum": "must be an integer"}})");
        CHECK(error_of(R"({"auth_data": {"reqnum": 1, "request_idx": )" + number + R"(}, "payload": {}})") ==
              R"({"auth_data": {"request_idx": "must be an integer"}})");
    }
    // The ends of the range are integers: -2^63 exactly, and the largest double below 2^63.
    auto e = ok(R"({"auth_data": {"reqnum": -9223372036854775808.0, "request_idx": 9223372036854774784.0},)"
                R"( "payload": {}})");
    REQUIRE(e.who);
    CHECK(e.who->reqnum == INT64_MIN);
    CHECK(e.who->request_idx == INT64_C(9223372036854774784));
    e = ok(R"({"auth_data": {"reqnum": 1e3, "request_idx": -0.0}, "payload": {}})");
    REQUIRE(e.who);
    CHECK(e.who->reqnum == 1000);
    CHECK(e.who->request_idx == 0);
}
