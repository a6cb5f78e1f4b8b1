#pragma once
// A load profile: steps and ramps of arrival rate over time, read from a small text file, e.g.
//
//   # warm up, then a burst
//   10 rps for 30s
//   ramp 10 to 200 rps over 20s
//   200 rps for 1m
//   pause 5s
//
// Pure: the parser takes text and returns the steps or an error naming the line. One format for
// cppworker-load (which sends it) and cppworker-simulate (which simulates it).
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace cppworker::profile {

// The rate goes linearly from `from` to `to` (requests/s) over `seconds`; equal for a step.
struct Step {
    double from = 0;
    double to = 0;
    double seconds = 0;
};

using Profile = std::vector<Step>;

struct ParseError {
    int line = 0;  // 1-based; 0 when the error is about the whole file
    std::string message;
};

// `name` prefixes each error ("profile.txt:3: ...").
std::variant<Profile, ParseError> parse_profile(std::string_view text);
std::string describe(const ParseError& e, std::string_view name);

// "30s", "1.5m", "500ms", "2h" -> seconds; nothing when it is not a duration > 0.
std::optional<double> parse_duration(std::string_view text);

double total_seconds(const Profile& p);
// The rate at `t` seconds from the start (0 past the end).
double rate_at(const Profile& p, double t);
// Arrivals expected by `t`: the integral of the rate from 0 to t.
double expected_by(const Profile& p, double t);
// The earliest t at which expected_by(p, t) reaches `count`; past the end when it never does.
double time_of(const Profile& p, double count);

}  // namespace cppworker::profile
