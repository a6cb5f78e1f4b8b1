// The C++ SDK's typed JSON reader (cppworker::Json, Request::json) over the host's json_get, and
// Request::keep with types std::any would refuse.
#include "plugin/host.hpp"
#include "requests/request_registry.hpp"

#include <cppworker/plugin.hpp>

#include <catch2/catch.hpp>

#include <cstddef>
#include <memory>
#include <string>

using cppworker::Json;
using cppworker::JsonError;

namespace {

struct Services {
    cppworker::requests::RequestRegistry registry{1024};
    cppworker::plugin::Host host{"test", {}, registry};
    const cppw_host_services* get() const { return host.services(); }
};

std::string error_of(const Json& j, int64_t (Json::*read)() const) {
    try {
        (j.*read)();
    } catch (const JsonError& e) {
        return e.what();
    }
    return "(no error)";
}

}  // namespace

TEST_CASE("sdk json: typed reads of a payload", "[unit][sdk]") {
    Services s;
    const std::string payload =
        R"({"inputs": "caf\u00e9\u0000!", "parameters": {"max_new_tokens": 32, "temperature": 0.5, "stream": true},
            "stop": ["a", null], "a/b": {"~x": 7}, "big": 1e300, "n": -3})";
    const Json root(s.get(), payload, "");
    CHECK(root.is_object());
    CHECK(Json(s.get(), payload, "/parameters/max_new_tokens").as_int() == 32);
    CHECK(root["parameters"]["temperature"].as_double() == 0.5);
    CHECK(root["parameters"]["stream"].as_bool());
    CHECK(root["n"].as_int() == -3);
    CHECK(root["n"].as_double() == -3.0);
    // A string comes whole and unescaped, its NUL and non-ASCII bytes included.
    CHECK(root["inputs"].as_string() == std::string("caf\xc3\xa9\0!", 7));
    CHECK(root["stop"][0].as_string() == "a");
    CHECK(root["stop"][1].is_null());
    CHECK(root["stop"][2].is_missing());
    CHECK(root["stop"].is_array());
    // Members whose names hold '/' or '~' are escaped into the pointer.
    CHECK(root["a/b"]["~x"].as_int() == 7);
    CHECK(root["a/b"]["~x"].pointer() == "/a~1b/~0x");
    // Compact JSON of any value, a string quoted again.
    CHECK(root["stop"].text() == R"(["a",null])");
    CHECK(root["stop"][0].text() == R"("a")");
    // Defaults apply to what is missing only.
    CHECK(root["absent"].as_int_or(100) == 100);
    CHECK(root["absent"].as_string_or("x") == "x");
    CHECK(root["parameters"]["max_new_tokens"].as_int_or(100) == 32);
    CHECK_THROWS_AS(root["inputs"].as_int_or(100), JsonError);
    // A string longer than any buffer a reader might guess.
    const std::string long_text(100000, 'y');
    CHECK(Json(s.get(), "{\"t\": \"" + long_text + "\"}", "/t").as_string() == long_text);
}

TEST_CASE("sdk json: errors name the field and what is there instead", "[unit][sdk]") {
    Services s;
    const std::string payload = R"({"amount": "2", "half": 2.5, "big": 1e30, "none": null, "yes": true,
                                   "list": [], "parameters": {"max_new_tokens": "many"}})";
    const Json root(s.get(), payload, "");
    CHECK(error_of(root["amount"], &Json::as_int) == R"(payload needs "amount" as an integer, not a string)");
    CHECK(error_of(root["half"], &Json::as_int) == R"(payload needs "half" as an integer, not 2.5)");
    CHECK(error_of(root["big"], &Json::as_int) == R"(payload needs "big" as an integer, not 1e+30)");
    CHECK(error_of(root["none"], &Json::as_int) == R"(payload needs "none" as an integer, not null)");
    CHECK(error_of(root["yes"], &Json::as_int) == R"(payload needs "yes" as an integer, not a boolean)");
    CHECK(error_of(root["list"], &Json::as_int) == R"(payload needs "list" as an integer, not an array)");
    CHECK(error_of(root["gone"], &Json::as_int) == R"(payload needs "gone" as an integer; it is missing)");
    CHECK(error_of(root["parameters"]["max_new_tokens"], &Json::as_int) ==
          R"(payload needs "parameters/max_new_tokens" as an integer, not a string)");
    CHECK(error_of(root, &Json::as_int) == "payload needs to be an integer, not an object");
    CHECK_THROWS_WITH(root["amount"].as_double(), R"(payload needs "amount" as a number, not a string)");
    CHECK_THROWS_WITH(root["half"].as_string(), R"(payload needs "half" as a string, not 2.5)");
    CHECK_THROWS_WITH(root["half"].as_bool(), R"(payload needs "half" as true or false, not 2.5)");
    CHECK_THROWS_WITH(root["gone"].text(), R"(payload field "gone" is missing)");

    // Text that is not JSON, a malformed pointer, and an empty payload (a GET without a body).
    CHECK_THROWS_WITH(Json(s.get(), "{\"a\": ", "/a"), "payload is not JSON");
    CHECK_THROWS_WITH(Json(s.get(), "{}", "a"), R"("a" is not a JSON pointer (RFC 6901))");
    CHECK_THROWS_WITH(Json(s.get(), "{}", "/a~2"), R"("/a~2" is not a JSON pointer (RFC 6901))");
    CHECK(Json(s.get(), "", "/a").is_missing());
    CHECK_THROWS_WITH(Json(s.get(), "", "/a").as_int(), R"(payload needs "a" as an integer; it is empty)");
    CHECK_THROWS_WITH(cppworker::Host(s.get()).json("[1", "/0", "the model server's answer"),
                      "the model server's answer is not JSON");
}

TEST_CASE("sdk json: a host without json_get (before ABI 1.3) is named, not crashed into", "[unit][sdk]") {
    Services s;
    cppw_host_services older = *s.get();
    older.abi_minor = 2;
    older.struct_size = static_cast<uint32_t>(offsetof(cppw_host_services, json_get));
    CHECK_THROWS_WITH(Json(&older, "{}", "/a"), "reading JSON needs a worker with ABI 1.3 (json_get)");
}

TEST_CASE("sdk json: Request::json reads the request's payload", "[unit][sdk]") {
    Services s;
    const std::string payload = R"({"prompt": "hi", "n": 2})";
    cppw_request_info info{sizeof info, 0, 7, {"/p", 2}, {"", 0}, {payload.data(), payload.size()}, {"", 0}, nullptr};
    const auto request = cppworker::Request::from(info, s.get());
    CHECK(request.json("/prompt").as_string() == "hi");
    CHECK(request.json()["n"].as_int() == 2);
    // Without the services (a Request made by hand), reading says why it cannot.
    CHECK_THROWS_AS(cppworker::Request::from(info).json("/prompt"), JsonError);
}

TEST_CASE("sdk: Request::keep takes move-only types, and kept<T> finds only what was kept as T", "[unit][sdk]") {
    cppw_request_info info{sizeof info, 0, 7, {"/p", 2}, {"", 0}, {"{}", 2}, {"", 0}, nullptr};
    const auto request = cppworker::Request::from(info);
    CHECK(request.kept<int>() == nullptr);
    request.keep(std::make_unique<std::string>("parsed"));
    auto* kept = request.kept<std::unique_ptr<std::string>>();
    REQUIRE(kept != nullptr);
    const std::unique_ptr<std::string> mine = std::move(*kept);  // yours to move from
    CHECK(*mine == "parsed");
    CHECK(request.kept<std::string>() == nullptr);
    CHECK(request.kept<std::unique_ptr<int>>() == nullptr);
    request.keep(42);
    REQUIRE(request.kept<int>() != nullptr);
    CHECK(*request.kept<int>() == 42);
    CHECK(request.kept<long>() == nullptr);
}
