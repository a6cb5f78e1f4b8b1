// pyjson::float_repr against an oracle built on printf: the fewest %e digits that read back as
// the same double, laid out by Python's repr rules (exponent form below 1e-4 and from 1e16 on).
#include "fuzz_support.hpp"

#include "pyjson/dumps.hpp"

#include <boost/json/value.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace cppworker_fuzz {
namespace {

// The shortest digits that read back as d, the nearest to d when several are that short (David
// Gay's mode 0, which Python's repr uses). For each length p, the candidates are printf's correctly
// rounded p digits and their neighbours one unit away: near a power of two the rounded value may
// miss while a neighbour hits.
std::string python_repr(double d) {
    if (std::isnan(d)) return "NaN";
    if (std::isinf(d)) return d < 0 ? "-Infinity" : "Infinity";
    std::string out;
    if (std::signbit(d)) out += '-';
    const double magnitude = std::fabs(d);
    std::string digits;
    int exponent = 0;
    for (int p = 1; p <= 17 && digits.empty(); ++p) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.*e", p - 1, magnitude);
        std::string mantissa(buf, std::strchr(buf, 'e'));
        mantissa.erase(std::remove(mantissa.begin(), mantissa.end(), '.'), mantissa.end());
        const long long m = std::atoll(mantissa.c_str());
        const int e = std::atoi(std::strchr(buf, 'e') + 1);
        long double best_distance = -1;
        for (const long long candidate : {m, m - 1, m + 1}) {
            if (candidate <= 0 && magnitude != 0) continue;
            char text[64];
            std::snprintf(text, sizeof text, "%llde%d", candidate, e - (p - 1));
            if (std::strtod(text, nullptr) != magnitude) continue;
            const long double distance = std::fabs(std::strtold(text, nullptr) - static_cast<long double>(magnitude));
            if (best_distance >= 0 && distance >= best_distance) continue;
            best_distance = distance;
            // Back to d1d2... x 10^exponent, a carry (999 + 1) adding a digit.
            digits = std::to_string(candidate);
            exponent = e + static_cast<int>(digits.size()) - p;
            while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
        }
    }
    const int last = static_cast<int>(digits.size()) - 1;
    if (exponent < -4 || exponent >= 16) {
        out += digits.substr(0, 1);
        if (last > 0) out += "." + digits.substr(1);
        char e[16];
        std::snprintf(e, sizeof e, "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
        out += e;
    } else if (exponent < 0) {
        out += "0." + std::string(static_cast<std::size_t>(-exponent - 1), '0') + digits;
    } else if (exponent >= last) {
        out += digits + std::string(static_cast<std::size_t>(exponent - last), '0') + ".0";
    } else {
        out += digits.substr(0, static_cast<std::size_t>(exponent) + 1) + "." +
               digits.substr(static_cast<std::size_t>(exponent) + 1);
    }
    return out;
}

void check(double d) {
    const std::string repr = cppworker::pyjson::float_repr(d);
    FUZZ_CHECK(repr == python_repr(d));
    if (std::isfinite(d)) {
        const double back = std::strtod(repr.c_str(), nullptr);
        FUZZ_CHECK(back == d && std::signbit(back) == std::signbit(d));
    }
    FUZZ_CHECK(cppworker::pyjson::dumps(boost::json::value(d)) == repr);
    FUZZ_CHECK(cppworker::pyjson::dumps_compact(boost::json::value(d)) == repr);
}

}  // namespace

int run_float_repr(const uint8_t* data, std::size_t size) {
    Reader in(data, size);
    if (!in.flag()) {
        while (in.remaining() >= 8) check(in.f64());
    } else {
        // The text read as a number: decimal inputs reach the values people write.
        const std::string text(in.rest());
        char* end = nullptr;
        const double d = std::strtod(text.c_str(), &end);
        if (end != text.c_str()) check(d);
    }
    return 0;
}

}  // namespace cppworker_fuzz
