#include "pyjson/dumps.hpp"
#include "pyjson/parse.hpp"
#include "python_vectors.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace json = boost::json;
using namespace cppworker::pyjson;
using namespace cppworker::test;

namespace {

// Qualified: for a json::string argument, argument-dependent lookup would pick boost::json::parse.
json::value py_parse(const json::string& text) { return cppworker::pyjson::parse(std::string_view(text.data(), text.size())); }

}  // namespace

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
        CHECK(dumps_indent4(py_parse(v.at("input_json").as_string()), sort_keys) == from_hex(v.at("expected_hex")));
    }
}

TEST_CASE("pyjson: json.dumps with the default and the compact separators", "[unit][pyjson]") {
    for (const auto& item : vector_list("answer_dumps")) {
        const auto& v = item.as_object();
        const auto value = py_parse(v.at("input_json").as_string());
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

namespace {

double parsed_double(std::string_view text) {
    const json::value v = cppworker::pyjson::parse(text);
    REQUIRE(v.is_double());
    return v.get_double();
}

}  // namespace

TEST_CASE("pyjson parse: floats read as Python's float() reads them", "[unit][pyjson]") {
    // The text and Python's repr(float(text)); Boost.JSON 1.81's parser gets each of the first
    // five wrong (1899341278.4556139 reads as the double that prints 1899341278.455614).
    const std::pair<std::string_view, std::string_view> floats[] = {
        {"1899341278.4556139", "1899341278.4556139"},
        {"9493.062727723549", "9493.062727723549"},
        {"7557694602.3662281", "7557694602.366228"},
        {"417411057.44558316", "417411057.44558316"},
        {"1955469150.3385386", "1955469150.3385386"},
        {"0e999", "0.0"},  // Boost.JSON 1.81: NaN
        {"-0.0", "-0.0"},
        {"1e-5", "1e-05"},
        {"1E16", "1e+16"},
        {"79999999999999999999", "8e+19"},  // beyond 64 bits: a double, as Boost.JSON reads it
        {"2.2250738585072011e-308", "2.225073858507201e-308"},
        {"2.5e-324", "5e-324"},
        {"2.4e-324", "0.0"},
        {"-1e-400", "-0.0"},
        {"0.00001e-320", "0.0"},
        {"1000000e-330", "0.0"},
        {"1.7976931348623157e308", "1.7976931348623157e+308"},
        {"1.7976931348623159e308", "Infinity"},
        {"1e400", "Infinity"},
        {"-1e400", "-Infinity"},
        {"0.0000000000000000000000000000000000000000000000000001e360", "1e+308"},
    };
    for (const auto& [text, repr] : floats) {
        INFO("text: " << text);
        CHECK(float_repr(parsed_double(text)) == repr);
    }
    CHECK(std::signbit(parsed_double("-1e-400")));
    // In a document, each number in its place.
    CHECK(dumps(cppworker::pyjson::parse(R"({"cost": 1899341278.4556139, "n": [1, -2, 3.5, 18446744073709551615]})")) ==
          R"({"cost": 1899341278.4556139, "n": [1, -2, 3.5, 18446744073709551615]})");
}

TEST_CASE("pyjson parse: random 17-digit doubles read back exactly as strtod reads them", "[unit][pyjson]") {
    std::mt19937_64 random(0x5eed);
    std::uniform_real_distribution<double> everyday(0.0, 1e10);
    std::vector<double> values;
    while (values.size() < 3000) {
        const double d = std::bit_cast<double>(random());  // any exponent, subnormals included
        if (std::isfinite(d)) values.push_back(d);
    }
    for (int i = 0; i < 3000; ++i) values.push_back(everyday(random));  // costs, timestamps
    std::size_t wrong = 0;
    for (const double d : values) {
        char text[40];
        std::snprintf(text, sizeof text, "%.17g", d);
        // %.17g writes exponents as "e+300" or "e-05", both JSON. A whole number prints without a point ("4503599627370497") and is read as an integer,
        // which converts to the double exactly.
        const double expected = std::strtod(text, nullptr);
        const json::value v = cppworker::pyjson::parse(text);
        REQUIRE(v.is_number());
        const double got = v.is_double() ? v.get_double() : v.to_number<double>();
        if (std::bit_cast<std::uint64_t>(got) != std::bit_cast<std::uint64_t>(expected)) {
            ++wrong;
            UNSCOPED_INFO(text << " read as " << float_repr(got) << ", strtod: " << float_repr(expected));
        }
    }
    CHECK(wrong == 0);
}

TEST_CASE("pyjson parse: everything but floats is read as boost::json::parse reads it", "[unit][pyjson]") {
    for (const std::string_view text :
         {R"({"a": 1, "b": [true, false, null], "c": "caf\u00e9 \ud83d\ude00", "a": 2})", "-0", "0", "-9223372036854775808",
          "9223372036854775808", "18446744073709551615", R"(["x", {}, [], {"": ""}])", " \t\r\n[1]\n"}) {
        INFO("text: " << text);
        const json::value ours = cppworker::pyjson::parse(text);
        const json::value boosts = json::parse(text);
        CHECK(ours.kind() == boosts.kind());
        CHECK(ours == boosts);
        CHECK(json::serialize(ours) == json::serialize(boosts));
    }
    // The value lives in the storage given.
    json::monotonic_resource arena;
    json::storage_ptr sp(&arena);
    json::error_code ec;
    const json::value v = cppworker::pyjson::parse(R"({"k": [1.5, "text long enough not to fit in place"]})", ec, sp);
    REQUIRE_FALSE(ec);
    CHECK(v.storage().get() == sp.get());
    CHECK(v.at("k").as_array().storage().get() == sp.get());
}

TEST_CASE("pyjson parse: malformed JSON is refused as boost::json::parse refuses it", "[unit][pyjson]") {
    for (const std::string_view text :
         {"", " ", "{", "[1,]", "[1 2]", R"({"a" 1})", R"({"a": 1,})", "1 2", "01", "1.", ".5", "-", "+1", "1e", "1e+",
          "0x10", "NaN", "Infinity", "-Infinity", "[1e99999999999]", "tru", "nul", R"("\x")", "\"\x01\"", "\"abc",
          "\"\xff\"", "[1]]", "/* c */ 1", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"}) {
        INFO("text: " << text);
        json::error_code ours;
        json::error_code boosts;
        const json::value v = cppworker::pyjson::parse(text, ours);
        json::parse(text, boosts);
        CHECK(ours.failed());
        CHECK(ours == boosts);
        CHECK(v.is_null());
        CHECK_THROWS_AS(cppworker::pyjson::parse(text), boost::system::system_error);
    }
    // The depth limit is Boost.JSON's 32: 33 nested arrays above are too deep, 32 are not.
    const std::string deep = std::string(32, '[') + std::string(32, ']');
    CHECK_NOTHROW(cppworker::pyjson::parse(deep));
}
