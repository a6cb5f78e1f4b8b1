#include "profile.hpp"
#include "schedule.hpp"

#include <catch2/catch.hpp>

#include <cmath>

using namespace cppworker::load;

namespace {

Profile parsed(std::string_view text) {
    auto p = parse_profile(text);
    if (auto* e = std::get_if<ParseError>(&p)) FAIL(describe(*e, "profile"));
    return std::get<Profile>(p);
}

std::string error_of(std::string_view text) {
    auto p = parse_profile(text);
    REQUIRE(std::holds_alternative<ParseError>(p));
    return describe(std::get<ParseError>(p), "p.txt");
}

}  // namespace

TEST_CASE("profile: steps, ramps and pauses with comments and units") {
    const auto p = parsed("# warm up\n10 rps for 30s\n\nramp 10 to 200 req/s over 500ms  # burst\n200 rps for 1.5m\npause 2s\n");
    REQUIRE(p.size() == 4);
    CHECK(p[0].from == 10);
    CHECK(p[0].to == 10);
    CHECK(p[0].seconds == 30);
    CHECK(p[1].from == 10);
    CHECK(p[1].to == 200);
    CHECK(p[1].seconds == Approx(0.5));
    CHECK(p[2].seconds == 90);
    CHECK(p[3].from == 0);
    CHECK(p[3].seconds == 2);
    CHECK(total_seconds(p) == Approx(122.5));
}

TEST_CASE("profile: an error names the line and what was expected") {
    CHECK(error_of("10 rps for 30s\n10 rps during 30s\n").starts_with("p.txt:2: expected '<rate> rps for <duration>'"));
    CHECK(error_of("-5 rps for 3s") == "p.txt:1: '-5' is not a rate >= 0");
    CHECK(error_of("ramp 1 to x rps over 3s") == "p.txt:1: 'x' is not a rate >= 0");
    CHECK(error_of("\n\n10 rps for 0s").starts_with("p.txt:3: '0s' is not a duration > 0"));
    CHECK(error_of("5 rps for 3 s").starts_with("p.txt:1: expected"));
    CHECK(error_of("# only a comment\n") == "p.txt: no steps: the profile has no line besides comments");
}

TEST_CASE("profile: durations in ms, s, m and h") {
    CHECK(parse_duration("500ms") == Approx(0.5));
    CHECK(parse_duration("30s") == Approx(30));
    CHECK(parse_duration("2m") == Approx(120));
    CHECK(parse_duration("1h") == Approx(3600));
    CHECK_FALSE(parse_duration("30"));
    CHECK_FALSE(parse_duration("s"));
    CHECK_FALSE(parse_duration("-1s"));
    CHECK_FALSE(parse_duration("1x"));
}

TEST_CASE("profile: the rate, its integral and its inverse agree") {
    const auto p = parsed("10 rps for 10s\nramp 10 to 30 rps over 10s\npause 5s\n4 rps for 5s");
    CHECK(rate_at(p, 5) == Approx(10));
    CHECK(rate_at(p, 15) == Approx(20));
    CHECK(rate_at(p, 22) == 0);
    CHECK(rate_at(p, 27) == 4);
    CHECK(rate_at(p, 31) == 0);
    CHECK(expected_by(p, 10) == Approx(100));
    CHECK(expected_by(p, 20) == Approx(300));  // 100 + the ramp's 10 s at a mean of 20
    CHECK(expected_by(p, 25) == Approx(300));
    CHECK(expected_by(p, 30) == Approx(320));
    for (double count : {1.0, 50.0, 100.0, 150.0, 299.0, 310.0, 320.0}) {
        CHECK(expected_by(p, time_of(p, count)) == Approx(count));
    }
    CHECK(time_of(p, 301) > 25);  // the pause has no arrivals
    CHECK(time_of(p, 321) > total_seconds(p));
}

TEST_CASE("schedule: constant arrivals are evenly spaced and as many as the profile's integral") {
    Schedule s(parsed("10 rps for 2s\nramp 10 to 30 rps over 2s"), Arrivals::constant, 1);
    std::vector<double> times;
    while (auto t = s.next()) times.push_back(*t);
    REQUIRE(times.size() == 60);  // 20 + 40
    CHECK(times[0] == Approx(0.05));
    CHECK(times[1] - times[0] == Approx(0.1));
    CHECK(times[9] == Approx(0.95));
    CHECK(times[10] == Approx(1.05));
    CHECK(times[19] == Approx(1.95));
    CHECK(times.back() < 4.0);
    // In the ramp the gaps shrink.
    CHECK(times[58] - times[57] < times[21] - times[20]);
}

TEST_CASE("schedule: Poisson arrivals follow the rate on average, and a seed repeats them") {
    const auto p = parsed("50 rps for 100s");
    Schedule a(p, Arrivals::poisson, 7), b(p, Arrivals::poisson, 7);
    std::vector<double> gaps;
    double last = 0;
    std::size_t n = 0;
    while (auto t = a.next()) {
        CHECK(b.next() == t);
        gaps.push_back(*t - last);
        last = *t;
        ++n;
    }
    CHECK(std::abs(static_cast<double>(n) - 5000) < 5 * std::sqrt(5000.0));
    // Exponential gaps: their standard deviation equals their mean (1/50 s).
    double mean = 0, sq = 0;
    for (double g : gaps) mean += g;
    mean /= static_cast<double>(gaps.size());
    for (double g : gaps) sq += (g - mean) * (g - mean);
    CHECK(std::sqrt(sq / static_cast<double>(gaps.size())) == Approx(0.02).epsilon(0.1));
}
