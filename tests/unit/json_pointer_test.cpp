#include "plugin/json_pointer.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <string_view>

using cppworker::plugin::json_get;

namespace {

cppw_str str(std::string_view s) { return cppw_str{s.data(), s.size()}; }

struct Found {
    cppw_status status;
    cppw_json_value value;
    std::string text;
};

Found get(std::string_view json, std::string_view pointer, std::size_t capacity = 256) {
    Found f{};
    f.value.struct_size = sizeof(cppw_json_value);
    std::string buffer(capacity, '\x7f');
    f.status = json_get(str(json), str(pointer), &f.value, capacity == 0 ? nullptr : buffer.data(), capacity);
    if (capacity > 0) f.text = buffer.c_str();
    return f;
}

constexpr std::string_view payload = R"({"inputs": "caf\u00e9 \"quoted\"", "parameters": {"max_new_tokens": 32,
    "temperature": 0.7, "stop": ["a", "b"], "seed": null, "sample": true, "big": 18446744073709551615,
    "whole": 2.0}, "a/b": 1, "m~n": 2})";

}  // namespace

TEST_CASE("json_get: every type, with its text", "[plugin][json_get]") {
    auto f = get(payload, "/inputs");
    REQUIRE(f.status == CPPW_OK);
    CHECK(f.value.type == CPPW_JSON_STRING);
    CHECK(f.text == "caf\xc3\xa9 \"quoted\"");
    CHECK(f.value.text_size == f.text.size());

    f = get(payload, "/parameters/max_new_tokens");
    CHECK(f.value.type == CPPW_JSON_NUMBER);
    CHECK(f.value.is_integer == 1);
    CHECK(f.value.integer == 32);
    CHECK(f.value.number == 32.0);
    CHECK(f.text == "32");

    f = get(payload, "/parameters/temperature");
    CHECK(f.value.type == CPPW_JSON_NUMBER);
    CHECK(f.value.is_integer == 0);
    CHECK(f.value.number == Approx(0.7));

    f = get(payload, "/parameters/whole");
    CHECK(f.value.is_integer == 1);
    CHECK(f.value.integer == 2);

    f = get(payload, "/parameters/big");
    CHECK(f.value.type == CPPW_JSON_NUMBER);
    CHECK(f.value.is_integer == 0);
    CHECK(f.value.number == Approx(1.8446744073709552e19));

    f = get(payload, "/parameters/sample");
    CHECK(f.value.type == CPPW_JSON_BOOL);
    CHECK(f.value.boolean == 1);
    CHECK(f.text == "true");

    f = get(payload, "/parameters/seed");
    CHECK(f.value.type == CPPW_JSON_NULL);
    CHECK(f.text == "null");

    f = get(payload, "/parameters/stop");
    CHECK(f.value.type == CPPW_JSON_ARRAY);
    CHECK(f.text == R"(["a","b"])");

    f = get(payload, "/parameters/stop/1");
    CHECK(f.value.type == CPPW_JSON_STRING);
    CHECK(f.text == "b");

    f = get(R"({"x": {"y": 1}})", "");
    CHECK(f.value.type == CPPW_JSON_OBJECT);
    CHECK(f.text == R"({"x":{"y":1}})");
}

TEST_CASE("json_get: escaped member names, and what is not there", "[plugin][json_get]") {
    CHECK(get(payload, "/a~1b").value.integer == 1);
    CHECK(get(payload, "/m~0n").value.integer == 2);
    for (const auto* missing : {"/nothing", "/parameters/stop/2", "/parameters/stop/x", "/inputs/0", "/nothing/deeper"}) {
        INFO(missing);
        const auto f = get(payload, missing);
        CHECK(f.status == CPPW_OK);
        CHECK(f.value.type == CPPW_JSON_MISSING);
        CHECK(f.value.text_size == 0);
        CHECK(f.text.empty());
    }
}

TEST_CASE("json_get: a small buffer gets a truncated, terminated text and the whole size", "[plugin][json_get]") {
    auto f = get(payload, "/parameters/stop", 4);
    CHECK(f.status == CPPW_OK);
    CHECK(f.text == R"(["a)");
    CHECK(f.value.text_size == 9);
    f = get(payload, "/inputs", 0);
    CHECK(f.status == CPPW_OK);
    CHECK(f.value.type == CPPW_JSON_STRING);
    CHECK(f.value.text_size == std::string("caf\xc3\xa9 \"quoted\"").size());
}

TEST_CASE("json_get: a bad pointer, text that is not JSON or a bad value is refused", "[plugin][json_get]") {
    CHECK(get(payload, "inputs").status == CPPW_INVALID_ARGUMENT);
    CHECK(get(payload, "/a~2b").status == CPPW_INVALID_ARGUMENT);
    CHECK(get(payload, "/a~").status == CPPW_INVALID_ARGUMENT);
    CHECK(get(R"({"amount": )", "/amount").status == CPPW_INVALID_ARGUMENT);
    CHECK(get("", "").status == CPPW_INVALID_ARGUMENT);

    cppw_json_value small{};
    small.struct_size = 8;
    CHECK(json_get(str(payload), str("/inputs"), &small, nullptr, 0) == CPPW_INVALID_ARGUMENT);
    CHECK(json_get(str(payload), str("/inputs"), nullptr, nullptr, 0) == CPPW_INVALID_ARGUMENT);
    cppw_json_value v{};
    v.struct_size = sizeof v;
    CHECK(json_get(str(payload), str("/inputs"), &v, nullptr, 16) == CPPW_INVALID_ARGUMENT);
}
