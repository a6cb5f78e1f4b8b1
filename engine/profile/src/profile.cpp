#include "profile/profile.hpp"

#include <charconv>
#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include <fmt/format.h>

namespace cppworker::profile {

namespace {

std::optional<double> number(std::string_view text) {
    double v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(v)) return std::nullopt;
    return v;
}

std::optional<double> rate(std::string_view text) {
    auto v = number(text);
    if (!v || *v < 0) return std::nullopt;
    return v;
}

bool is_rate_unit(std::string_view word) { return word == "rps" || word == "req/s" || word == "/s"; }

std::vector<std::string> words_of(std::string_view line) {
    std::istringstream in{std::string(line)};
    std::vector<std::string> words;
    for (std::string w; in >> w;) words.push_back(w);
    return words;
}

constexpr const char* forms =
    "expected '<rate> rps for <duration>', 'ramp <rate> to <rate> rps over <duration>' or 'pause <duration>'"
    " (durations like 30s, 500ms, 2m, 1h)";

// One line's step, or what is wrong with it.
std::variant<Step, std::string> read_line(const std::vector<std::string>& w) {
    auto duration_of = [](const std::string& text) -> std::variant<double, std::string> {
        if (auto d = parse_duration(text)) return *d;
        return fmt::format("'{}' is not a duration > 0 (like 30s, 500ms, 2m)", text);
    };
    std::variant<double, std::string> seconds = std::string(forms);
    Step step;
    if (w.size() == 2 && w[0] == "pause") {
        seconds = duration_of(w[1]);
    } else if (w.size() == 4 && is_rate_unit(w[1]) && w[2] == "for") {
        auto r = rate(w[0]);
        if (!r) return fmt::format("'{}' is not a rate >= 0", w[0]);
        step.from = step.to = *r;
        seconds = duration_of(w[3]);
    } else if (w.size() == 7 && w[0] == "ramp" && w[2] == "to" && is_rate_unit(w[4]) && w[5] == "over") {
        auto from = rate(w[1]), to = rate(w[3]);
        if (!from) return fmt::format("'{}' is not a rate >= 0", w[1]);
        if (!to) return fmt::format("'{}' is not a rate >= 0", w[3]);
        step.from = *from;
        step.to = *to;
        seconds = duration_of(w[6]);
    }
    if (auto* error = std::get_if<std::string>(&seconds)) return *error;
    step.seconds = std::get<double>(seconds);
    return step;
}

}  // namespace

std::optional<double> parse_duration(std::string_view text) {
    struct Unit {
        std::string_view suffix;
        double seconds;
    };
    // "ms" before "s" and "m": the longest suffix that matches wins.
    for (const Unit u : {Unit{"ms", 0.001}, Unit{"s", 1}, Unit{"m", 60}, Unit{"h", 3600}}) {
        if (!text.ends_with(u.suffix)) continue;
        auto v = number(text.substr(0, text.size() - u.suffix.size()));
        if (!v || !(*v > 0)) return std::nullopt;
        return *v * u.seconds;
    }
    return std::nullopt;
}

std::variant<Profile, ParseError> parse_profile(std::string_view text) {
    Profile profile;
    int line_no = 0;
    while (!text.empty()) {
        ++line_no;
        const auto nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
        if (const auto hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
        const auto words = words_of(line);
        if (words.empty()) continue;
        auto read = read_line(words);
        if (auto* error = std::get_if<std::string>(&read)) return ParseError{line_no, *error};
        profile.push_back(std::get<Step>(read));
    }
    if (profile.empty()) return ParseError{0, "no steps: the profile has no line besides comments"};
    return profile;
}

std::string describe(const ParseError& e, std::string_view name) {
    if (e.line == 0) return fmt::format("{}: {}", name, e.message);
    return fmt::format("{}:{}: {}", name, e.line, e.message);
}

double total_seconds(const Profile& p) {
    double total = 0;
    for (const auto& s : p) total += s.seconds;
    return total;
}

double rate_at(const Profile& p, double t) {
    for (const auto& s : p) {
        if (t < s.seconds) return s.from + (s.to - s.from) * (t / s.seconds);
        t -= s.seconds;
    }
    return 0;
}

double expected_by(const Profile& p, double t) {
    double count = 0;
    for (const auto& s : p) {
        const double within = std::min(std::max(t, 0.0), s.seconds);
        // The area under a line: the mean of the rates at both ends of the part covered.
        count += within * (s.from + (s.from + (s.to - s.from) * (within / s.seconds))) / 2;
        t -= s.seconds;
        if (t <= 0) break;
    }
    return count;
}

double time_of(const Profile& p, double count) {
    double start = 0;
    for (const auto& s : p) {
        const double area = s.seconds * (s.from + s.to) / 2;
        if (count <= area && area > 0) {
            // The x within the step where from*x + a*x^2 = count, in the form that stays exact
            // as the ramp flattens (a -> 0).
            const double a = (s.to - s.from) / (2 * s.seconds);
            const double x = 2 * count / (s.from + std::sqrt(std::max(0.0, s.from * s.from + 4 * a * count)));
            return start + std::min(std::max(x, 0.0), s.seconds);
        }
        count -= area;
        start += s.seconds;
    }
    return std::nextafter(start, std::numeric_limits<double>::infinity());
}

}  // namespace cppworker::profile
