// The load profile's format (engine/profile), as cppworker-load and cppworker-simulate read it.
#include "profile/profile.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <variant>

using namespace cppworker::profile;

namespace {

std::string error_of(const char* text) {
    auto read = parse_profile(text);
    auto* e = std::get_if<ParseError>(&read);
    return e ? describe(*e, "p.txt") : std::string("(no error)");
}

}  // namespace

TEST_CASE("profile: steps, ramps and pauses, comments and blank lines skipped", "[profile]") {
    const auto p = std::get<Profile>(parse_profile("# warm up\n10 rps for 30s\n\nramp 10 to 200 req/s over 1m  # up\npause 500ms\n"));
    REQUIRE(p.size() == 3);
    CHECK(p[0].from == 10);
    CHECK(p[0].to == 10);
    CHECK(p[0].seconds == 30);
    CHECK(p[1].from == 10);
    CHECK(p[1].to == 200);
    CHECK(p[1].seconds == 60);
    CHECK(p[2].to == 0);
    CHECK(p[2].seconds == 0.5);
    CHECK(total_seconds(p) == 90.5);
}

TEST_CASE("profile: an error names the line and what it expected", "[profile]") {
    CHECK(error_of("10 rps for 30s\n10 rps for 30x\n") == "p.txt:2: '30x' is not a duration > 0 (like 30s, 500ms, 2m)");
    CHECK(error_of("-5 rps for 3s\n") == "p.txt:1: '-5' is not a rate >= 0");
    CHECK(error_of("fast for 3s\n").rfind("p.txt:1: expected '<rate> rps for <duration>'", 0) == 0);
    CHECK(error_of("# nothing\n") == "p.txt: no steps: the profile has no line besides comments");
    CHECK(parse_duration("2h") == 7200);
    CHECK_FALSE(parse_duration("0s"));
}

TEST_CASE("profile: rates, the requests expected by a time, and its inverse", "[profile]") {
    // 10/s for 10 s (100 requests), then from 10 to 30/s over 10 s (200 more).
    const auto p = std::get<Profile>(parse_profile("10 rps for 10s\nramp 10 to 30 rps over 10s\n"));
    CHECK(rate_at(p, 5) == 10);
    CHECK(rate_at(p, 15) == 20);
    CHECK(rate_at(p, 25) == 0);
    CHECK(expected_by(p, 10) == Approx(100));
    CHECK(expected_by(p, 15) == Approx(100 + 5 * 15));
    CHECK(expected_by(p, 20) == Approx(300));
    CHECK(expected_by(p, 50) == Approx(300));
    CHECK(time_of(p, 175) == Approx(15));
    CHECK(time_of(p, 50) == Approx(5));
}

TEST_CASE("profile: durations in ms, s, m and h", "[profile]") {
    CHECK(parse_duration("500ms") == Approx(0.5));
    CHECK(parse_duration("30s") == Approx(30));
    CHECK(parse_duration("2m") == Approx(120));
    CHECK(parse_duration("1h") == Approx(3600));
    CHECK_FALSE(parse_duration("30"));
    CHECK_FALSE(parse_duration("s"));
    CHECK_FALSE(parse_duration("-1s"));
    CHECK_FALSE(parse_duration("1x"));
}
