// pyjson: json.dumps in its three layouts, json_string, valid_utf8 and error_body, and pyjson::parse.
// Whatever parses must print as ASCII-only JSON that reads back as the same value, in every layout,
// and print again as the same text (floats are read correctly rounded, so repr's digits come back
// as the same double). pyjson::parse accepts and refuses what boost::json::parse does.
#include "fuzz_support.hpp"
#include "json_compare.hpp"

#include "pyjson/dumps.hpp"
#include "pyjson/parse.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace cppworker_fuzz {
namespace {
namespace json = boost::json;

bool printable_ascii(std::string_view s, bool newlines) {
    return std::all_of(s.begin(), s.end(), [newlines](char c) { return (c >= 0x20 && c <= 0x7E) || (newlines && c == '\n'); });
}

// The value with every object's members in key order, as sort_keys prints them.
json::value sorted(const json::value& v) {
    if (v.is_array()) {
        json::array out;
        for (const auto& e : v.get_array()) out.push_back(sorted(e));
        return out;
    }
    if (!v.is_object()) return v;
    std::vector<const json::key_value_pair*> members;
    for (const auto& m : v.get_object()) members.push_back(&m);
    std::sort(members.begin(), members.end(), [](auto* a, auto* b) { return a->key() < b->key(); });
    json::object out;
    for (auto* m : members) out.emplace(m->key(), sorted(m->value()));
    return out;
}

// The same value, a double allowed to differ as Boost.JSON 1.81's rounding does (a few ulps, and
// anything below 1e-300, where it rounds twice into the subnormals; 0e999 it reads as NaN).
bool near_json(const json::value& a, const json::value& b) {
    if (a.is_double() && b.is_double()) {
        const double x = a.get_double();
        const double y = b.get_double();
        return close_doubles(x, y) || std::isnan(y) || std::fabs(x - y) <= 1e-300 ||
               (std::isinf(x) != std::isinf(y) && std::fabs(std::isinf(x) ? y : x) > 1.7976931348623e308);
    }
    if (a.kind() != b.kind()) return false;
    if (a.is_array()) {
        const auto& x = a.get_array();
        const auto& y = b.get_array();
        if (x.size() != y.size()) return false;
        for (std::size_t i = 0; i < x.size(); ++i)
            if (!near_json(x[i], y[i])) return false;
        return true;
    }
    if (a.is_object()) {
        const auto& x = a.get_object();
        const auto& y = b.get_object();
        if (x.size() != y.size()) return false;
        for (auto i = x.begin(), j = y.begin(); i != x.end(); ++i, ++j)
            if (i->key() != j->key() || !near_json(i->value(), j->value())) return false;
        return true;
    }
    return a == b;
}

void check_value(const json::value& v) {
    const std::string spaced = cppworker::pyjson::dumps(v);
    const std::string compact = cppworker::pyjson::dumps_compact(v);
    const std::string indented = cppworker::pyjson::dumps_indent4(v, false);
    const std::string indented_sorted = cppworker::pyjson::dumps_indent4(v, true);
    FUZZ_CHECK(printable_ascii(spaced, false));
    FUZZ_CHECK(printable_ascii(compact, false));
    FUZZ_CHECK(printable_ascii(indented, true));
    FUZZ_CHECK(printable_ascii(indented_sorted, true));
    FUZZ_CHECK(compact.size() <= spaced.size());
    if (!all_finite(v)) return;  // NaN / Infinity are Python's, not JSON
    using cppworker::pyjson::parse;
    FUZZ_CHECK(same_json(parse(spaced), v));
    FUZZ_CHECK(same_json(parse(compact), v));
    FUZZ_CHECK(same_json(parse(indented), v));
    FUZZ_CHECK(same_json(parse(indented_sorted), sorted(v)));
    // Printing what was read back gives the same text again: every double came back exactly.
    FUZZ_CHECK(cppworker::pyjson::dumps(parse(spaced)) == spaced);
    FUZZ_CHECK(cppworker::pyjson::dumps_compact(parse(compact)) == compact);
    // indent=4: every line is indented by a multiple of 4 and none ends in a space.
    std::size_t start = 0;
    while (start <= indented.size()) {
        auto end = indented.find('\n', start);
        if (end == std::string::npos) end = indented.size();
        const std::string_view line(indented.data() + start, end - start);
        const auto lead = line.find_first_not_of(' ');
        FUZZ_CHECK(lead != std::string_view::npos && lead % 4 == 0);
        FUZZ_CHECK(line.back() != ' ');
        start = end + 1;
    }
}

void check_text(std::string_view bytes) {
    const bool utf8 = is_utf8(bytes);
    bool threw = false;
    std::string quoted;
    try {
        quoted = cppworker::pyjson::json_string(bytes);
    } catch (const std::invalid_argument&) {
        threw = true;
    }
    FUZZ_CHECK(threw == !utf8);
    if (utf8) {
        FUZZ_CHECK(printable_ascii(quoted, false));
        const json::value back = json::parse(quoted);
        FUZZ_CHECK(back.is_string() && back.get_string() == bytes);
    }
    const std::string cleaned = cppworker::pyjson::valid_utf8(bytes);
    FUZZ_CHECK(is_utf8(cleaned));
    FUZZ_CHECK((cleaned == bytes) == utf8);
    FUZZ_CHECK(cppworker::pyjson::valid_utf8(cleaned) == cleaned);
    FUZZ_CHECK(cleaned.size() >= bytes.size());
    const std::string body = cppworker::pyjson::error_body(bytes);
    const json::value parsed = json::parse(body);
    FUZZ_CHECK(parsed.is_object() && parsed.get_object().size() == 1);
    FUZZ_CHECK(parsed.get_object().at("error").get_string() == cleaned);
    FUZZ_CHECK(cppworker::pyjson::dumps(parsed) == body);
}

}  // namespace

int run_pyjson_dumps(const uint8_t* data, std::size_t size) {
    Reader in(data, size);
    const bool as_text = in.flag();
    const std::string rest(in.rest());
    if (as_text) {
        check_text(rest);
        return 0;
    }
    json::error_code ec;
    const json::value v = cppworker::pyjson::parse(rest, ec);
    // The same verdict as Boost.JSON's own parser, and the same value but for a float's last digits.
    json::error_code boost_ec;
    const json::value boost_v = json::parse(rest, boost_ec);
    FUZZ_CHECK(ec == boost_ec);
    if (!ec) {
        FUZZ_CHECK(near_json(v, boost_v));
        check_value(v);
    }
    return 0;
}

}  // namespace cppworker_fuzz
