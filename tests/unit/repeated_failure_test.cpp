#include "logging/repeated_failure.hpp"

#include <catch2/catch.hpp>

using namespace std::chrono_literals;
using cppworker::logging::RepeatedFailure;
using Kind = RepeatedFailure::Line::Kind;

TEST_CASE("repeated failure: the first failure is told at once, repeats once per interval", "[unit][logging]") {
    RepeatedFailure f(60s);
    const RepeatedFailure::Clock::time_point t0{};
    const auto first = f.failed("a", t0);
    REQUIRE(first);
    CHECK(first->kind == Kind::first);
    CHECK(first->failures == 1);
    // Every 2 s for a minute: nothing to say until the interval has passed.
    int lines = 0;
    for (int s = 2; s < 60; s += 2) lines += f.failed("a", t0 + std::chrono::seconds(s)) ? 1 : 0;
    CHECK(lines == 0);
    const auto summary = f.failed("a", t0 + 60s);
    REQUIRE(summary);
    CHECK(summary->kind == Kind::summary);
    CHECK(summary->failures == 30);  // 29 silent ones and this one
    CHECK(summary->elapsed == 60s);
    // The next interval counts from the summary.
    CHECK_FALSE(f.failed("a", t0 + 119s));
    const auto next = f.failed("a", t0 + 120s);
    REQUIRE(next);
    CHECK(next->failures == 2);
}

TEST_CASE("repeated failure: a success after failures is told once, with the outage's size", "[unit][logging]") {
    RepeatedFailure f(60s);
    const RepeatedFailure::Clock::time_point t0{};
    CHECK_FALSE(f.succeeded("a", t0));  // nothing was failing
    f.failed("a", t0);
    f.failed("a", t0 + 2s);
    f.failed("a", t0 + 4s);
    const auto back = f.succeeded("a", t0 + 10s);
    REQUIRE(back);
    CHECK(back->kind == Kind::recovered);
    CHECK(back->failures == 3);
    CHECK(back->elapsed == 10s);
    CHECK_FALSE(f.succeeded("a", t0 + 11s));
    // A new outage starts over with a first line.
    const auto again = f.failed("a", t0 + 12s);
    REQUIRE(again);
    CHECK(again->kind == Kind::first);
}

TEST_CASE("repeated failure: each key has its own outage", "[unit][logging]") {
    RepeatedFailure f(60s);
    const RepeatedFailure::Clock::time_point t0{};
    CHECK(f.failed("a", t0));
    CHECK(f.failed("b", t0 + 1s));
    CHECK_FALSE(f.failed("a", t0 + 2s));
    CHECK(f.succeeded("b", t0 + 3s));
    CHECK_FALSE(f.failed("a", t0 + 4s));
    CHECK_FALSE(f.succeeded("b", t0 + 5s));
}
