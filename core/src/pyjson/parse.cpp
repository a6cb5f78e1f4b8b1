#include "pyjson/parse.hpp"

// basic_parser's member templates are defined here; only this file instantiates them.
#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/system_error.hpp>
#include <boost/json/value_stack.hpp>
#include <boost/throw_exception.hpp>

#include <charconv>
#include <cstdint>
#include <limits>
#include <string>
#include <system_error>

namespace cppworker::pyjson {
namespace json = boost::json;

namespace {

// A number std::from_chars found out of range: beyond the largest double (float() gives ±inf) or
// below half the smallest subnormal (float() gives ±0.0). Which side follows from the decimal
// exponent of the first significant digit, which is then beyond ±300, so a rough count decides.
double beyond_range(std::string_view text) {
    const bool negative = !text.empty() && text.front() == '-';
    std::size_t i = negative ? 1 : 0;
    long long integer_digits = 0;    // digits before the point
    long long first_significant = -1;  // index of the first nonzero digit among all digits
    long long digits = 0;
    bool in_fraction = false;
    for (; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '.') {
            in_fraction = true;
        } else if (c >= '0' && c <= '9') {
            if (c != '0' && first_significant < 0) first_significant = digits;
            ++digits;
            if (!in_fraction) ++integer_digits;
        } else {
            break;  // 'e' or 'E'
        }
    }
    long long exponent = 0;
    if (i < text.size()) {
        ++i;
        bool exponent_negative = false;
        if (i < text.size() && (text[i] == '+' || text[i] == '-')) exponent_negative = text[i++] == '-';
        for (; i < text.size(); ++i) {
            if (exponent < 1'000'000'000'000LL) exponent = exponent * 10 + (text[i] - '0');
        }
        if (exponent_negative) exponent = -exponent;
    }
    // The first significant digit stands for 10^magnitude.
    const long long magnitude = integer_digits - 1 - first_significant + exponent;
    const double value = magnitude > 0 ? std::numeric_limits<double>::infinity() : 0.0;
    return negative ? -value : value;
}

// The handler of boost::json::parse (boost/json/detail/handler.hpp), but a double is read again
// from its text. Numbers come whole from a single write of the whole text; the parts of one cut by
// the end of a buffer are joined all the same.
struct Handler {
    static constexpr std::size_t max_object_size = json::object::max_size();
    static constexpr std::size_t max_array_size = json::array::max_size();
    static constexpr std::size_t max_key_size = json::string::max_size();
    static constexpr std::size_t max_string_size = json::string::max_size();

    json::value_stack st;
    std::string number_parts;

    Handler(json::storage_ptr sp, unsigned char* temp, std::size_t size) : st(std::move(sp), temp, size) {}

    bool on_document_begin(json::error_code&) { return true; }
    bool on_document_end(json::error_code&) { return true; }
    bool on_object_begin(json::error_code&) { return true; }
    bool on_object_end(std::size_t n, json::error_code&) {
        st.push_object(n);
        return true;
    }
    bool on_array_begin(json::error_code&) { return true; }
    bool on_array_end(std::size_t n, json::error_code&) {
        st.push_array(n);
        return true;
    }
    bool on_key_part(json::string_view s, std::size_t, json::error_code&) {
        st.push_chars(s);
        return true;
    }
    bool on_key(json::string_view s, std::size_t, json::error_code&) {
        st.push_key(s);
        return true;
    }
    bool on_string_part(json::string_view s, std::size_t, json::error_code&) {
        st.push_chars(s);
        return true;
    }
    bool on_string(json::string_view s, std::size_t, json::error_code&) {
        st.push_string(s);
        return true;
    }
    bool on_number_part(json::string_view s, json::error_code&) {
        number_parts.append(s.data(), s.size());
        return true;
    }
    bool on_int64(std::int64_t i, json::string_view, json::error_code&) {
        number_parts.clear();
        st.push_int64(i);
        return true;
    }
    bool on_uint64(std::uint64_t u, json::string_view, json::error_code&) {
        number_parts.clear();
        st.push_uint64(u);
        return true;
    }
    bool on_double(double boost_value, json::string_view s, json::error_code&) {
        if (number_parts.empty()) {
            st.push_double(correctly_rounded(std::string_view(s.data(), s.size()), boost_value));
        } else {
            number_parts.append(s.data(), s.size());
            st.push_double(correctly_rounded(number_parts, boost_value));
            number_parts.clear();
        }
        return true;
    }
    bool on_bool(bool b, json::error_code&) {
        st.push_bool(b);
        return true;
    }
    bool on_null(json::error_code&) {
        st.push_null();
        return true;
    }
    bool on_comment_part(json::string_view, json::error_code&) { return true; }
    bool on_comment(json::string_view, json::error_code&) { return true; }

    // The text is a JSON number the parser has checked, which std::from_chars reads whole.
    static double correctly_rounded(std::string_view text, double boost_value) {
        double value = 0;
        const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (error == std::errc::result_out_of_range) return beyond_range(text);
        if (error != std::errc() || end != text.data() + text.size()) return boost_value;  // cannot happen
        return value;
    }
};

}  // namespace

json::value parse(std::string_view text, json::error_code& ec, json::storage_ptr sp) {
    // As boost::json::parse: the value stack's scratch space on the stack, the value in `sp`.
    unsigned char temp[BOOST_JSON_STACK_BUFFER_SIZE];
    json::basic_parser<Handler> parser(json::parse_options(), json::storage_ptr(), temp, sizeof temp);
    parser.handler().st.reset(std::move(sp));
    const std::size_t used = parser.write_some(false, text.data(), text.size(), ec);
    if (!ec && used < text.size()) ec = json::error::extra_data;
    if (ec) return nullptr;
    return parser.handler().st.release();
}

json::value parse(std::string_view text, json::storage_ptr sp) {
    json::error_code ec;
    json::value out = parse(text, ec, std::move(sp));
    if (ec) boost::throw_exception(json::system_error(ec));
    return out;
}

}  // namespace cppworker::pyjson
