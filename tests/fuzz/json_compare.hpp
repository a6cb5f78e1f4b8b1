// Structural equality of two JSON values for the round-trip checks. Doubles compare within a few
// units in the last place: Boost.JSON 1.81's parser is not always correctly rounded, so a double
// printed exactly may read back one ulp off. Exact float round trips are checked with strtod
// (float_repr target).
#pragma once

#include <boost/json/value.hpp>

#include <cmath>

namespace cppworker_fuzz {

inline bool close_doubles(double a, double b) {
    if (a == b) return std::signbit(a) == std::signbit(b) || a != 0;
    if (std::isnan(a) || std::isnan(b) || std::isinf(a) || std::isinf(b)) return false;
    return std::fabs(a - b) <= 4 * std::fabs(a) * 2.220446049250313e-16;
}

inline bool same_json(const boost::json::value& a, const boost::json::value& b) {
    namespace json = boost::json;
    if (a.kind() != b.kind()) return false;
    switch (a.kind()) {
        case json::kind::null: return true;
        case json::kind::bool_: return a.get_bool() == b.get_bool();
        case json::kind::int64: return a.get_int64() == b.get_int64();
        case json::kind::uint64: return a.get_uint64() == b.get_uint64();
        case json::kind::double_: return close_doubles(a.get_double(), b.get_double());
        case json::kind::string: return a.get_string() == b.get_string();
        case json::kind::array: {
            const auto& x = a.get_array();
            const auto& y = b.get_array();
            if (x.size() != y.size()) return false;
            for (std::size_t i = 0; i < x.size(); ++i)
                if (!same_json(x[i], y[i])) return false;
            return true;
        }
        case json::kind::object: {
            const auto& x = a.get_object();
            const auto& y = b.get_object();
            if (x.size() != y.size()) return false;
            auto i = x.begin();
            auto j = y.begin();
            for (; i != x.end(); ++i, ++j)
                if (i->key() != j->key() || !same_json(i->value(), j->value())) return false;
            return true;
        }
    }
    return false;
}

// Every double in the value is finite (Python prints the others as NaN / Infinity, which no JSON
// parser reads back).
inline bool all_finite(const boost::json::value& v) {
    namespace json = boost::json;
    switch (v.kind()) {
        case json::kind::double_: return std::isfinite(v.get_double());
        case json::kind::array:
            for (const auto& e : v.get_array())
                if (!all_finite(e)) return false;
            return true;
        case json::kind::object:
            for (const auto& m : v.get_object())
                if (!all_finite(m.value())) return false;
            return true;
        default: return true;
    }
}

}  // namespace cppworker_fuzz
