// Routing (engine/src/routing): which worker takes a request, and the queue that keeps places.
#include "fleet/fleet.hpp"
#include "policy/policy.hpp"
#include "routing/load_meter.hpp"
#include "routing/route_queue.hpp"

#include <catch2/catch.hpp>

using namespace cppworker::engine;

TEST_CASE("routing: the ready worker with the least queue time takes the request", "[engine][routing]") {
    const std::vector<Candidate> ready{{1, 50, 10}, {2, 30, 10}, {3, 40, 20}};
    // Queue times: 5 s, 3 s, 2 s.
    CHECK(pick_worker(ready, {}, 30) == 3);
    // Within max_queue_time only, as the worker's own 429 rule counts it (before the request).
    CHECK(pick_worker(ready, {}, 1.9) == std::nullopt);
    CHECK(pick_worker(ready, {}, 2) == 3);
    // A worker that has not benchmarked takes nothing.
    CHECK(pick_worker({{4, 0, 0}}, {}, 30) == std::nullopt);
}

TEST_CASE("routing: requests that waited longer are placed first", "[engine][routing]") {
    const std::vector<Candidate> ready{{1, 0, 10}};
    // Two requests of cost 20 wait ahead: 0 s, then 2 s, then 4 s at the worker.
    CHECK(pick_worker(ready, {20, 20}, 4) == 1);
    CHECK(pick_worker(ready, {20, 20}, 3.9) == std::nullopt);
}

TEST_CASE("route queue: a request keeps its place while its client polls", "[engine][routing]") {
    RouteQueue q;
    q.wait(7, 10, 60, 1000);
    q.wait(8, 20, 60, 1001);
    q.wait(7, 10, 60, 1030);  // polled again: still first
    CHECK(q.costs_ahead(7).empty());
    CHECK(q.costs_ahead(8) == std::vector<double>{10});
    CHECK(q.costs_ahead(99) == std::vector<double>{10, 20});
    CHECK(q.total_cost() == 30);
    // 8 was last seen at 1001 with a replay_timeout of 60: gone at 1062, 7 (seen at 1030) stays.
    CHECK(q.expire(1062) == 1);
    REQUIRE(q.size() == 1);
    CHECK(q.entries().front().request_idx == 7);
    q.remove(7);
    CHECK(q.size() == 0);
}

TEST_CASE("load meter: the cost of arrivals per second over a window", "[engine][routing]") {
    LoadMeter m(60);
    for (int i = 0; i < 60; ++i) m.arrived(100, 1000 + i);
    CHECK(m.rate(60, 1059.5) == Approx(100));
    CHECK(m.rate(6, 1059.5) == Approx(100));
    // Nothing for 30 s: the 60 s window halves, the 6 s one is empty.
    CHECK(m.rate(60, 1090) == Approx(50).margin(2));
    CHECK(m.rate(6, 1090) == 0);
    CHECK(m.last_arrival() == 1059);
}

TEST_CASE("load meter: an endpoint's meter keeps the longest window the policy reads", "[engine][routing]") {
    // A stable_window of 300 s: 100 units/s for 300 s must read 100 over it, not the last 60 s
    // of it spread over 300 (20), which a meter of 60 s would give.
    PolicyTuning tuning;
    tuning.stable_window = 300;
    tuning.panic_window = 6;
    CHECK(longest_window(tuning) == 300);
    Fleet fleet(longest_window(tuning));
    auto& entry = fleet.add_endpoint(Endpoint{});
    for (int i = 0; i < 300; ++i) entry.meter.arrived(100, 1000 + i);
    CHECK(entry.meter.rate(tuning.stable_window, 1299.5) == Approx(100));
    CHECK(entry.meter.rate(tuning.panic_window, 1299.5) == Approx(100));
    // A panic window longer than the stable one is kept as long.
    tuning.panic_window = 400;
    CHECK(longest_window(tuning) == 400);
}
