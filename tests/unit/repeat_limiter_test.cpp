#include "logging/repeat_limiter.hpp"

#include <catch2/catch.hpp>

using cppworker::logging::RepeatLimiter;
using namespace std::chrono_literals;

TEST_CASE("repeat limiter: the first event at once, then one line per interval with the count", "[unit][logging]") {
    RepeatLimiter limiter(10s);
    const RepeatLimiter::Clock::time_point t0{};
    CHECK(limiter.note(t0) == 1u);
    CHECK_FALSE(limiter.note(t0 + 1s));
    CHECK_FALSE(limiter.note(t0 + 9s));
    CHECK(limiter.note(t0 + 10s) == 3u);  // the two held back, and this one
    CHECK_FALSE(limiter.note(t0 + 19s));
    CHECK(limiter.note(t0 + 60s) == 2u);
}
