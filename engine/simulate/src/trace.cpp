#include "trace.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>

namespace cppworker::simulate {
namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

bool number(std::string_view text, double& out) {
    text = trim(text);
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc() && end == text.data() + text.size() && std::isfinite(out);
}

}  // namespace

std::variant<std::vector<Arrival>, std::string> read_arrivals_csv(std::string_view text) {
    std::vector<Arrival> arrivals;
    int line_no = 0;
    while (!text.empty()) {
        ++line_no;
        const auto nl = text.find('\n');
        const std::string_view line = trim(text.substr(0, nl));
        text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
        if (line.empty() || line.front() == '#') continue;
        const auto comma = line.find(',');
        Arrival a{0, 0};
        const bool parsed = comma != std::string_view::npos && number(line.substr(0, comma), a.t) &&
                            number(line.substr(comma + 1), a.cost);
        if (!parsed) {
            if (line_no == 1 && arrivals.empty()) continue;  // a header
            return fmt::format("line {}: expected \"time,cost\" (two numbers), got \"{}\"", line_no, line);
        }
        if (a.t < 0) return fmt::format("line {}: time must be >= 0", line_no);
        if (a.cost <= 0) return fmt::format("line {}: cost must be > 0", line_no);
        arrivals.push_back(a);
    }
    if (arrivals.empty()) return std::string("no arrivals: the file has no \"time,cost\" line");
    std::stable_sort(arrivals.begin(), arrivals.end(), [](const Arrival& a, const Arrival& b) { return a.t < b.t; });
    return arrivals;
}

Trace arrivals_trace(std::vector<Arrival> arrivals) {
    Trace t;
    t.duration = arrivals.empty() ? 0 : std::floor(arrivals.back().t) + 1;
    t.arrivals = std::move(arrivals);
    return t;
}

}  // namespace cppworker::simulate
