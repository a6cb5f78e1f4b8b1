// plugin::json_get, the json_get host service: refuses exactly the malformed pointers and texts,
// finds what an RFC 6901 walk written here finds, never writes past `capacity` or past the
// caller's struct_size, always NUL-terminates, and throws nothing (it is called through the C ABI).
#include "fuzz_support.hpp"
#include "json_compare.hpp"

#include "plugin/json_pointer.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace cppworker_fuzz {
namespace {
namespace json = boost::json;

bool valid_pointer(std::string_view p) {
    if (!p.empty() && p.front() != '/') return false;
    for (std::size_t i = 0; i < p.size(); ++i)
        if (p[i] == '~' && (i + 1 == p.size() || (p[i + 1] != '0' && p[i + 1] != '1'))) return false;
    return true;
}

// RFC 6901; an array index is "0" or digits without a leading zero, below the size.
const json::value* walk(const json::value& doc, std::string_view pointer) {
    const json::value* at = &doc;
    while (!pointer.empty()) {
        pointer.remove_prefix(1);
        const auto end = pointer.find('/');
        const std::string_view raw = pointer.substr(0, end);
        pointer = end == std::string_view::npos ? std::string_view() : pointer.substr(end);
        std::string token;
        for (std::size_t i = 0; i < raw.size(); ++i) {
            if (raw[i] == '~') {
                token += raw[i + 1] == '1' ? '/' : '~';
                ++i;
            } else {
                token += raw[i];
            }
        }
        if (at->is_object()) {
            at = at->get_object().if_contains(token);
            if (!at) return nullptr;
        } else if (at->is_array()) {
            if (token.empty() || token.size() > 19 || token.find_first_not_of("0123456789") != std::string::npos ||
                (token.size() > 1 && token[0] == '0'))
                return nullptr;
            const auto index = std::stoull(token);
            if (index >= at->get_array().size()) return nullptr;
            at = &at->get_array()[index];
        } else {
            return nullptr;
        }
    }
    return at;
}

bool has_double(const json::value& v) {
    if (v.is_double()) return true;
    if (const auto* a = v.if_array()) return std::any_of(a->begin(), a->end(), has_double);
    if (const auto* o = v.if_object())
        return std::any_of(o->begin(), o->end(), [](const json::key_value_pair& m) { return has_double(m.value()); });
    return false;
}

}  // namespace

int run_json_pointer(const uint8_t* data, std::size_t size) {
    Reader in(data, size);
    const uint8_t mode = in.byte();
    const std::size_t capacity = in.byte() % 48;
    const std::string pointer(in.until_nul());
    const std::string text(in.rest());

    // The caller's struct: its own size (this ABI's, a later one's, or too small), canaries after.
    uint32_t struct_size = sizeof(cppw_json_value);
    if (mode & 2) struct_size += 16;
    if (mode & 4) struct_size = static_cast<uint32_t>(offsetof(cppw_json_value, text_size));
    const std::size_t block_size = std::max<std::size_t>(struct_size, sizeof(cppw_json_value)) + 16;
    std::vector<unsigned char> block(block_size, 0x5A);
    auto* value = reinterpret_cast<cppw_json_value*>(block.data());
    value->struct_size = struct_size;
    std::unique_ptr<char[]> buffer(capacity ? new char[capacity] : nullptr);
    if (capacity) std::memset(buffer.get(), 0x7E, capacity);
    char* out_text = (mode & 8) && capacity == 0 ? nullptr : buffer.get();

    const cppw_str json_arg{(mode & 16) && text.empty() ? nullptr : text.data(), text.size()};
    const cppw_str pointer_arg{(mode & 32) && pointer.empty() ? nullptr : pointer.data(), pointer.size()};

    cppw_status status;
    try {
        status = cppworker::plugin::json_get(json_arg, pointer_arg, (mode & 64) ? nullptr : value, out_text, capacity);
    } catch (...) {
        FUZZ_CHECK(!"json_get threw through the C ABI");
        return 0;
    }
    // Never past the struct the caller declared.
    const std::size_t written = std::min<std::size_t>(struct_size, sizeof(cppw_json_value));
    for (std::size_t i = std::max(written, sizeof(uint32_t)); i < block_size; ++i) FUZZ_CHECK(block[i] == 0x5A);

    json::error_code ec;
    const json::value doc = json::parse(text, ec);
    const bool bad_args = (mode & 64) || (mode & 4) || !valid_pointer(pointer) || ec;
    if (bad_args) {
        FUZZ_CHECK(status == CPPW_INVALID_ARGUMENT);
        return 0;
    }
    FUZZ_CHECK(status == CPPW_OK);
    FUZZ_CHECK(value->struct_size == struct_size);

    const json::value* found = walk(doc, pointer);
    std::string expected_text;
    cppw_json_type expected_type = CPPW_JSON_MISSING;
    if (found) {
        switch (found->kind()) {
            case json::kind::null: expected_type = CPPW_JSON_NULL; break;
            case json::kind::bool_: expected_type = CPPW_JSON_BOOL; break;
            case json::kind::int64:
            case json::kind::uint64:
            case json::kind::double_: expected_type = CPPW_JSON_NUMBER; break;
            case json::kind::string: expected_type = CPPW_JSON_STRING; break;
            case json::kind::array: expected_type = CPPW_JSON_ARRAY; break;
            case json::kind::object: expected_type = CPPW_JSON_OBJECT; break;
        }
        expected_text = found->is_string() ? std::string(found->get_string()) : json::serialize(*found);
    }
    FUZZ_CHECK(value->type == static_cast<uint32_t>(expected_type));
    if (capacity) FUZZ_CHECK(buffer[std::min<std::size_t>(value->text_size, capacity - 1)] == '\0');
    // Boost.JSON 1.81 misrounds some doubles that json_get reads correctly rounded (pyjson::parse),
    // so where doubles are, the text printed may differ from the model's: a whole text is read back
    // and compared within a few ulps, a double also against its own text. The rest is exact.
    if (found && has_double(*found)) {
        if (value->text_size < capacity) {
            if (found->is_double()) {
                FUZZ_CHECK(std::strtod(buffer.get(), nullptr) == value->number);
            } else if (all_finite(*found)) {  // ±inf prints as Python does, Infinity, which no parser here reads
                json::error_code text_ec;
                const json::value printed = json::parse(std::string_view(buffer.get(), value->text_size), text_ec);
                FUZZ_CHECK(!text_ec && same_json(printed, *found));
            }
        }
        if (found->is_double()) {
            const double model = found->get_double();
            // No JSON number is NaN: Boost.JSON 1.81 reads 0e999 so, for 0.
            FUZZ_CHECK(std::isnan(model) ? value->number == 0 : close_doubles(value->number, model));
        }
    } else {
        FUZZ_CHECK(value->text_size == expected_text.size());
        if (capacity) {
            const std::size_t n = std::min(expected_text.size(), capacity - 1);
            FUZZ_CHECK(std::memcmp(buffer.get(), expected_text.data(), n) == 0);
        }
    }
    if (expected_type == CPPW_JSON_BOOL) FUZZ_CHECK(value->boolean == (found->get_bool() ? 1 : 0));
    if (expected_type == CPPW_JSON_NUMBER) {
        if (!found->is_double()) FUZZ_CHECK(value->number == found->to_number<double>());
        const double d = value->number;
        if (value->is_integer) {
            FUZZ_CHECK(static_cast<double>(value->integer) == d);
            FUZZ_CHECK(std::trunc(d) == d);
        } else {
            FUZZ_CHECK(found->is_double() || found->is_uint64());
            if (found->is_double()) FUZZ_CHECK(std::trunc(d) != d || std::fabs(d) >= 9.2233720368547758e18);
        }
        if (found->is_int64()) FUZZ_CHECK(value->is_integer && value->integer == found->get_int64());
    }
    return 0;
}

}  // namespace cppworker_fuzz
