#include "pyjson/dumps.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <vector>

namespace cppworker::pyjson {
namespace json = boost::json;

namespace {

// Decodes the code point starting at text[pos] and advances pos past it. Strict RFC 3629: overlong
// forms, surrogates and values above U+10FFFF are refused, as Python's UTF-8 decoder refuses them.
char32_t next_code_point(std::string_view text, std::size_t& pos) {
    const auto lead = static_cast<unsigned char>(text[pos]);
    if (lead < 0x80) {
        ++pos;
        return lead;
    }
    int length = 0;
    char32_t cp = 0;
    char32_t smallest = 0;
    if ((lead & 0xE0) == 0xC0) {
        length = 2;
        cp = lead & 0x1F;
        smallest = 0x80;
    } else if ((lead & 0xF0) == 0xE0) {
        length = 3;
        cp = lead & 0x0F;
        smallest = 0x800;
    } else if ((lead & 0xF8) == 0xF0) {
        length = 4;
        cp = lead & 0x07;
        smallest = 0x10000;
    } else {
        throw std::invalid_argument("invalid UTF-8: bad lead byte");
    }
    if (text.size() - pos < static_cast<std::size_t>(length)) throw std::invalid_argument("invalid UTF-8: truncated");
    for (int i = 1; i < length; ++i) {
        const auto next = static_cast<unsigned char>(text[pos + i]);
        if ((next & 0xC0) != 0x80) throw std::invalid_argument("invalid UTF-8: bad continuation byte");
        cp = (cp << 6) | (next & 0x3F);
    }
    if (cp < smallest || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        throw std::invalid_argument("invalid UTF-8: overlong, surrogate or out of range");
    }
    pos += length;
    return cp;
}

void append_u_escape(std::string& out, char32_t unit) {
    static constexpr char hex[] = "0123456789abcdef";
    out += "\\u";
    for (int shift = 12; shift >= 0; shift -= 4) out += hex[(unit >> shift) & 0xF];
}

void append_json_string(std::string& out, std::string_view utf8) {
    out += '"';
    for (std::size_t pos = 0; pos < utf8.size();) {
        const char32_t cp = next_code_point(utf8, pos);
        switch (cp) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            default:
                // Python's ESCAPE_ASCII leaves exactly ' '..'~' alone, so DEL is escaped too.
                if (cp >= 0x20 && cp <= 0x7E) {
                    out += static_cast<char>(cp);
                } else if (cp < 0x10000) {
                    append_u_escape(out, cp);
                } else {
                    const char32_t offset = cp - 0x10000;
                    append_u_escape(out, 0xD800 + (offset >> 10));
                    append_u_escape(out, 0xDC00 + (offset & 0x3FF));
                }
        }
    }
    out += '"';
}

// Python's float_repr_style 'short' layout of the shortest digits d1d2... of a value d1.d2... x 10^exponent.
void append_python_layout(std::string& out, std::string_view digits, int exponent) {
    const int last = static_cast<int>(digits.size()) - 1;
    if (exponent < -4 || exponent >= 16) {
        out += digits.front();
        if (last > 0) {
            out += '.';
            out += digits.substr(1);
        }
        const int magnitude = std::abs(exponent);
        out += exponent < 0 ? "e-" : "e+";
        if (magnitude < 10) out += '0';
        out += std::to_string(magnitude);
    } else if (exponent < 0) {
        out += "0.";
        out.append(static_cast<std::size_t>(-exponent - 1), '0');
        out += digits;
    } else if (exponent >= last) {
        out += digits;
        out.append(static_cast<std::size_t>(exponent - last), '0');
        out += ".0";
    } else {
        const auto point = static_cast<std::size_t>(exponent) + 1;
        out += digits.substr(0, point);
        out += '.';
        out += digits.substr(point);
    }
}

void append_float(std::string& out, double value) {
    if (std::isnan(value)) {
        out += "NaN";
        return;
    }
    if (std::isinf(value)) {
        out += value < 0 ? "-Infinity" : "Infinity";
        return;
    }
    // to_chars in scientific form yields the shortest round-trip digits, as "[-]d[.ddd]e±XX".
    std::array<char, 32> buf{};
    const auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), value, std::chars_format::scientific);
    if (ec != std::errc{}) throw std::logic_error("to_chars failed on a finite double");
    std::string_view sci(buf.data(), static_cast<std::size_t>(end - buf.data()));
    if (sci.front() == '-') {
        out += '-';
        sci.remove_prefix(1);
    }
    const std::size_t e_at = sci.find('e');
    std::string digits(sci.substr(0, e_at));
    std::erase(digits, '.');
    const std::string_view exponent_text = sci.substr(e_at + 1);
    int exponent = 0;
    std::from_chars(exponent_text.data() + (exponent_text.front() == '+' ? 1 : 0),
                    exponent_text.data() + exponent_text.size(), exponent);
    append_python_layout(out, digits, exponent);
}

// How json.dumps lays out containers: either indent=N (a newline and N spaces per level, item
// separator ",") or no indent with the given separators.
struct Layout {
    int indent;  // < 0: none
    std::string_view item_separator;
    std::string_view key_separator;
    bool sort_keys;
};

void append_newline_indent(std::string& out, const Layout& layout, int level) {
    if (layout.indent < 0) return;
    out += '\n';
    out.append(static_cast<std::size_t>(level * layout.indent), ' ');
}

void append_value(std::string& out, const json::value& value, const Layout& layout, int level) {
    switch (value.kind()) {
        case json::kind::null: out += "null"; break;
        case json::kind::bool_: out += value.get_bool() ? "true" : "false"; break;
        case json::kind::int64: out += std::to_string(value.get_int64()); break;
        case json::kind::uint64: out += std::to_string(value.get_uint64()); break;
        case json::kind::double_: append_float(out, value.get_double()); break;
        case json::kind::string: append_json_string(out, value.get_string()); break;
        case json::kind::array: {
            const auto& items = value.get_array();
            if (items.empty()) {
                out += "[]";
                break;
            }
            out += '[';
            for (std::size_t i = 0; i < items.size(); ++i) {
                if (i > 0) out += layout.item_separator;
                append_newline_indent(out, layout, level + 1);
                append_value(out, items[i], layout, level + 1);
            }
            append_newline_indent(out, layout, level);
            out += ']';
            break;
        }
        case json::kind::object: {
            const auto& members = value.get_object();
            if (members.empty()) {
                out += "{}";
                break;
            }
            std::vector<const json::key_value_pair*> order;
            for (const auto& member : members) order.push_back(&member);
            // Python sorts str keys by code point, which is the byte order of their UTF-8.
            if (layout.sort_keys) {
                std::sort(order.begin(), order.end(), [](auto* a, auto* b) { return a->key() < b->key(); });
            }
            out += '{';
            for (std::size_t i = 0; i < order.size(); ++i) {
                if (i > 0) out += layout.item_separator;
                append_newline_indent(out, layout, level + 1);
                append_json_string(out, order[i]->key());
                out += layout.key_separator;
                append_value(out, order[i]->value(), layout, level + 1);
            }
            append_newline_indent(out, layout, level);
            out += '}';
            break;
        }
    }
}

std::string dump_with(const json::value& value, const Layout& layout) {
    std::string out;
    append_value(out, value, layout, 0);
    return out;
}

}  // namespace

std::string json_string(std::string_view utf8) {
    std::string out;
    append_json_string(out, utf8);
    return out;
}

std::string float_repr(double value) {
    std::string out;
    append_float(out, value);
    return out;
}

std::string dumps(const json::value& value) { return dump_with(value, Layout{-1, ", ", ": ", false}); }

std::string dumps_compact(const json::value& value) { return dump_with(value, Layout{-1, ",", ":", false}); }

// With an indent, Python's item separator is "," (no trailing space), since 3.4.
std::string dumps_indent4(const json::value& value, bool sort_keys) {
    return dump_with(value, Layout{4, ",", ": ", sort_keys});
}

std::string valid_utf8(std::string_view bytes) {
    std::string out;
    out.reserve(bytes.size());
    for (std::size_t pos = 0; pos < bytes.size();) {
        const std::size_t start = pos;
        try {
            next_code_point(bytes, pos);
            out.append(bytes.substr(start, pos - start));
        } catch (const std::invalid_argument&) {
            out += "\xEF\xBF\xBD";
            pos = start + 1;
        }
    }
    return out;
}

std::string error_body(std::string_view message) {
    return dumps(json::object{{"error", valid_utf8(message)}});
}

}  // namespace cppworker::pyjson
