#include "pyjson/dumps.hpp"
#include "python_vectors.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <bit>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace json = boost::json;
using namespace cppworker::pyjson;
using namespace cppworker::test;

TEST_CASE("pyjson: strings are quoted as json.dumps quotes them", "[unit][pyjson]") {
    for (const auto& v : vector_list("json_strings")) {
        const auto input = from_hex(v.at("input_hex"));
        INFO("input: " << input);
        CHECK(json_string(input) == from_hex(v.at("expected_hex")));
    }
}

TEST_CASE("pyjson: invalid UTF-8 is refused", "[unit][pyjson]") {
    for (const std::string bad : {"\x80", "a\xC3", "\xC0\xAF", "\xE0\x80\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80",
                                  "\xF8\x88\x80\x80\x80", "\xFF", "\xC3\x28"}) {
        INFO("input: " << bad);
        CHECK_THROWS_AS(json_string(bad), std::invalid_argument);
    }
}

TEST_CASE("pyjson: floats print as Python's repr", "[unit][pyjson]") {
    for (const auto& v : vector_list("floats")) {
        const auto bits = std::stoull(text_of(v.at("bits")), nullptr, 16);
        INFO("bits: " << text_of(v.at("bits")));
        CHECK(float_repr(std::bit_cast<double>(bits)) == text_of(v.at("expected")));
    }
}

TEST_CASE("pyjson: json.dumps with indent=4, sorted and unsorted", "[unit][pyjson]") {
    for (const auto& item : vector_list("dumps")) {
        const auto& v = item.as_object();
        const bool sort_keys = v.at("sort_keys").as_bool();
        INFO("input: " << text_of(v.at("input_json")) << " sort_keys: " << sort_keys);
        CHECK(dumps_indent4(json::parse(v.at("input_json").as_string()), sort_keys) == from_hex(v.at("expected_hex")));
    }
}

TEST_CASE("pyjson: json.dumps with the default and the compact separators", "[unit][pyjson]") {
    for (const auto& item : vector_list("answer_dumps")) {
        const auto& v = item.as_object();
        const auto value = json::parse(v.at("input_json").as_string());
        INFO("input: " << text_of(v.at("input_json")));
        CHECK(dumps(value) == from_hex(v.at("default_hex")));
        CHECK(dumps_compact(value) == from_hex(v.at("compact_hex")));
    }
    // What Boost.JSON's serializer would write instead ("1.7961828294837987E9").
    CHECK(dumps(json::object{{"expiration", 1796182829.4837987}}) == R"({"expiration": 1796182829.4837987})");
    CHECK(dumps(json::object{{"lifetime", 30}, {"again", 30.0}}) == R"({"lifetime": 30, "again": 30.0})");
}

TEST_CASE("pyjson: error bodies as json.dumps writes them", "[unit][pyjson]") {
    for (const auto& item : vector_list("error_bodies")) {
        const auto& v = item.as_object();
        const auto message = from_hex(v.at("message_hex"));
        INFO("message: " << message);
        CHECK(error_body(message) == from_hex(v.at("expected_hex")));
    }
}

TEST_CASE("pyjson: bytes that are not UTF-8 become U+FFFD, the rest is kept", "[unit][pyjson]") {
    CHECK(valid_utf8("plain caf\xC3\xA9") == "plain caf\xC3\xA9");
    CHECK(valid_utf8("a\xFF" "b") == "a\xEF\xBF\xBD" "b");
    CHECK(valid_utf8("\xC3") == "\xEF\xBF\xBD");
    CHECK(valid_utf8("\xED\xA0\x80") == "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
    CHECK(error_body("no route /\xFF") == R"({"error": "no route /\ufffd"})");
}
