#include "plugin/json_pointer.hpp"

#include "pyjson/parse.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>

namespace cppworker::plugin {
namespace json = boost::json;

namespace {

// Boost.JSON takes "~" followed by anything but 0 or 1 as a plain character; RFC 6901 does not.
bool valid_pointer(std::string_view pointer) {
    if (!pointer.empty() && pointer.front() != '/') return false;
    for (std::size_t i = 0; i < pointer.size(); ++i) {
        if (pointer[i] == '~' && (i + 1 == pointer.size() || (pointer[i + 1] != '0' && pointer[i + 1] != '1'))) {
            return false;
        }
    }
    return true;
}

void describe_number(const json::value& v, cppw_json_value& out) {
    out.type = CPPW_JSON_NUMBER;
    if (v.is_int64()) {
        out.is_integer = 1;
        out.integer = v.get_int64();
        out.number = static_cast<double>(out.integer);
    } else if (v.is_uint64()) {
        const auto u = v.get_uint64();
        out.is_integer = u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ? 1 : 0;
        out.integer = out.is_integer ? static_cast<int64_t>(u) : 0;
        out.number = static_cast<double>(u);
    } else {
        const double d = v.get_double();
        out.number = d;
        // 2.0 is a whole number; 1e300 does not fit.
        const bool whole = std::trunc(d) == d && d >= -9.2233720368547758e18 && d < 9.2233720368547758e18;
        out.is_integer = whole ? 1 : 0;
        out.integer = whole ? static_cast<int64_t>(d) : 0;
    }
}

void copy_text(std::string_view from, char* text, size_t capacity) {
    if (text == nullptr || capacity == 0) return;
    const std::size_t n = std::min(from.size(), capacity - 1);
    if (n > 0) std::memcpy(text, from.data(), n);  // an empty view may have no data at all
    text[n] = '\0';
}

}  // namespace

cppw_status json_get(cppw_str json_text, cppw_str pointer, cppw_json_value* value, char* text, size_t capacity) {
    if (value == nullptr || value->struct_size < offsetof(cppw_json_value, text_size) + sizeof(value->text_size) ||
        (json_text.size > 0 && json_text.data == nullptr) || (pointer.size > 0 && pointer.data == nullptr) ||
        (text == nullptr && capacity > 0)) {
        return CPPW_INVALID_ARGUMENT;
    }
    const std::string_view at(pointer.data == nullptr ? "" : pointer.data, pointer.size);
    if (!valid_pointer(at)) return CPPW_INVALID_ARGUMENT;

    unsigned char scratch[4096];  // a typical payload parses without touching the heap
    json::monotonic_resource arena(scratch, sizeof scratch);
    json::error_code ec;
    const json::value doc =
        pyjson::parse(std::string_view(json_text.data == nullptr ? "" : json_text.data, json_text.size), ec, &arena);
    if (ec) return CPPW_INVALID_ARGUMENT;

    cppw_json_value out{};
    out.struct_size = value->struct_size;
    const json::value* found = doc.find_pointer(at, ec);
    std::string rendered;
    std::string_view shown;
    if (found == nullptr) {
        // A pointer into what is there (a member name on an array, an index past the end) finds
        // nothing; so does one through a missing member.
        out.type = CPPW_JSON_MISSING;
    } else if (found->is_null()) {
        out.type = CPPW_JSON_NULL;
        shown = "null";
    } else if (found->is_bool()) {
        out.type = CPPW_JSON_BOOL;
        out.boolean = found->get_bool() ? 1 : 0;
        shown = out.boolean ? "true" : "false";
    } else if (found->is_number()) {
        describe_number(*found, out);
        rendered = json::serialize(*found);
        shown = rendered;
    } else if (found->is_string()) {
        out.type = CPPW_JSON_STRING;
        shown = found->get_string();
    } else {
        out.type = found->is_array() ? CPPW_JSON_ARRAY : CPPW_JSON_OBJECT;
        rendered = json::serialize(*found);
        shown = rendered;
    }
    out.text_size = shown.size();
    copy_text(shown, text, capacity);
    std::memcpy(value, &out, std::min<std::size_t>(value->struct_size, sizeof out));
    return CPPW_OK;
}

}  // namespace cppworker::plugin
