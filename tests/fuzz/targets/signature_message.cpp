// The two signed messages: json.dumps({"url": url}, indent=4, sort_keys=True) and the all-fields
// message. Each must be the indent=4 sorted dump of exactly the fields it covers.
#include "fuzz_support.hpp"
#include "json_compare.hpp"

#include "auth/signature_message.hpp"
#include "pyjson/dumps.hpp"

#include <boost/json.hpp>

#include <array>
#include <stdexcept>

namespace cppworker_fuzz {
namespace {
namespace json = boost::json;

constexpr std::array<std::string_view, 5> signed_fields = {"cost", "endpoint", "reqnum", "request_idx", "url"};

void check_url(std::string_view url) {
    std::string message;
    try {
        message = cppworker::auth::url_message(url);
    } catch (const std::invalid_argument&) {
        FUZZ_CHECK(!is_utf8(url));  // only text that is not UTF-8 is refused
        return;
    }
    FUZZ_CHECK(is_utf8(url));
    FUZZ_CHECK(message.starts_with("{\n    \"url\": \"") && message.ends_with("\"\n}"));
    FUZZ_CHECK(message == cppworker::pyjson::dumps_indent4(json::object{{"url", url}}, true));
    const json::value back = json::parse(message);
    FUZZ_CHECK(back.is_object() && back.get_object().size() == 1 && back.get_object().at("url").get_string() == url);
}

void check_fields(const json::object& auth) {
    const std::string message = cppworker::auth::all_fields_message(auth);
    json::object expected;
    for (auto f : signed_fields)  // already in sorted order
        if (const auto* v = auth.if_contains(f)) expected.emplace(f, *v);
    FUZZ_CHECK(message == cppworker::pyjson::dumps_indent4(expected, true));
    if (expected.empty()) {
        FUZZ_CHECK(message == "{}");
        return;
    }
    if (!all_finite(expected)) return;
    const json::value back = json::parse(message);
    FUZZ_CHECK(back.is_object());
    // Top-level keys: exactly the signed fields present, in sorted order.
    std::string previous;
    for (const auto& m : back.get_object()) {
        FUZZ_CHECK(std::find(signed_fields.begin(), signed_fields.end(), m.key()) != signed_fields.end());
        FUZZ_CHECK(previous < std::string(m.key()));
        previous = m.key();
        FUZZ_CHECK(same_json(m.value(), expected.at(m.key())) || m.value().is_object());
    }
    FUZZ_CHECK(back.get_object().size() == expected.size());
}

}  // namespace

int run_signature_message(const uint8_t* data, std::size_t size) {
    Reader in(data, size);
    const bool as_url = in.flag();
    const std::string rest(in.rest());
    if (as_url) {
        check_url(rest);
        return 0;
    }
    json::error_code ec;
    const json::value v = json::parse(rest, ec);
    if (!ec && v.is_object()) check_fields(v.get_object());
    return 0;
}

}  // namespace cppworker_fuzz
