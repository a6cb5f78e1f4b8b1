// The connection tracker (http/connection_tracker.hpp): guards count connections, the cap refuses,
// and the drain ends once nothing is open or about to be.
#include "http/connection_tracker.hpp"

#include <catch2/catch.hpp>

#include <optional>

using cppworker::http::ConnectionTracker;

namespace {

struct Counts {
    int idle_closes = 0;
    int cancels = 0;
};

ConnectionTracker::Control control(Counts& counts) {
    return [&counts](ConnectionTracker::DrainStep step) {
        ++(step == ConnectionTracker::DrainStep::begin ? counts.idle_closes : counts.cancels);
    };
}

}  // namespace

TEST_CASE("connection tracker: a guard counts its connection until it goes", "[unit][http]") {
    ConnectionTracker tracker(2);
    Counts counts;
    {
        auto a = tracker.open(tracker.accepted(), control(counts));
        auto b = tracker.open(tracker.accepted(), control(counts));
        REQUIRE(a);
        REQUIRE(b);
        CHECK(tracker.open_count() == 2);
        // Past --max-connections: refused and counted, and its ticket is used up all the same.
        CHECK_FALSE(tracker.open(tracker.accepted(), control(counts)));
        CHECK(tracker.refused() == 1);
        CHECK(tracker.open_count() == 2);
    }
    CHECK(tracker.open_count() == 0);
}

TEST_CASE("connection tracker: the drain ends when the last connection, open or accepted, is gone", "[unit][http]") {
    ConnectionTracker tracker(10);
    Counts counts;
    int drained = 0;
    std::optional<ConnectionTracker::Guard> open = tracker.open(tracker.accepted(), control(counts));
    std::optional<ConnectionTracker::Ticket> accepted;
    accepted.emplace(tracker.accepted());

    const auto was_open = tracker.begin_drain([&] { ++drained; });
    REQUIRE(was_open);
    CHECK(*was_open == 1);
    CHECK(tracker.draining());
    CHECK(counts.idle_closes == 1);
    CHECK_FALSE(tracker.begin_drain([&] { ++drained; }));  // once

    open.reset();
    CHECK(drained == 0);  // a connection accepted before the drain is still on its way
    tracker.check_drained();
    CHECK(drained == 0);
    {
        auto late = tracker.open(std::move(*accepted), control(counts));
        accepted.reset();
        REQUIRE(late);
        CHECK(tracker.cancel_all() == 1);
        CHECK(counts.cancels == 1);
    }
    CHECK(drained == 1);
    tracker.check_drained();
    CHECK(drained == 1);
}

TEST_CASE("connection tracker: an accepted connection that never opens does not hold the drain", "[unit][http]") {
    ConnectionTracker tracker(10);
    int drained = 0;
    std::optional<ConnectionTracker::Ticket> ticket;
    ticket.emplace(tracker.accepted());
    REQUIRE(tracker.begin_drain([&] { ++drained; }));
    CHECK(drained == 0);
    ticket.reset();
    CHECK(drained == 1);
}
