// cppworker-load's schedule: when each request of an open loop is due (engine/profile gives the rates).
#include "schedule.hpp"

#include <catch2/catch.hpp>

#include <cmath>

using namespace cppworker::load;
using cppworker::profile::Profile;

namespace {

Profile parsed(std::string_view text) {
    auto p = cppworker::profile::parse_profile(text);
    if (auto* e = std::get_if<cppworker::profile::ParseError>(&p)) FAIL(cppworker::profile::describe(*e, "profile"));
    return std::get<Profile>(p);
}

}  // namespace

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
