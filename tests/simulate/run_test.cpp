// Whole runs small enough to compute by hand, every request accounted for, and determinism.
#include "simulation.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

using namespace cppworker::simulate;
using Kind = Distribution::Kind;

namespace {

// Workers that take 10 s to start and 20 s to load, serve 10 units/s, cost $3.60/h running
// ($0.001/s) and $0.36/h stopped; routes wait at most 30 s at a worker; arrivals are exactly the
// expected number.
SimConfig small(int workers) {
    SimConfig c;
    c.workers.start_s = {Kind::constant, 10, 0};
    c.workers.load_s = {Kind::constant, 20, 0};
    c.workers.perf = {Kind::constant, 10, 0};
    c.workers.cost_per_hour = {Kind::constant, 3.6, 0};
    c.workers.stopped_cost_per_hour = {Kind::constant, 0.36, 0};
    c.params.min_load = 5;
    c.params.target_util = 1;
    c.params.cold_mult = 1;
    c.params.cold_workers = workers;
    c.params.max_workers = workers;
    c.params.inactivity_timeout = -1;
    c.params.max_queue_time = 30;
    c.params.target_queue_time = 10;
    c.poisson = false;
    return c;
}

// 5 requests/s of 1 unit each for `seconds`.
Trace constant(double seconds) {
    Trace t;
    t.duration = seconds;
    t.expected_by = [seconds](double at) { return 5 * std::min(at, seconds); };
    return t;
}

// The first step with a ready worker.
double first_ready(const SimResult& r) {
    for (const auto& s : r.samples) {
        if (s.ready > 0) return s.t - 1;
    }
    return -1;
}

void accounted(const Figures& f) {
    CHECK(f.completed + f.refused + f.failed + f.waiting_at_end + f.in_flight_at_end == Approx(f.offered));
}

}  // namespace

TEST_CASE("simulate: one worker, a constant load: cost and queue times by hand", "[simulate]") {
    // t=0: the policy wants one worker (min_load 5) and creates it; it is ready at 10 + 20 = 30 s.
    // Meanwhile 5 requests a step wait for a route, step j's counted from j + 0.5 s.
    // At 30 s the pool (10 units/s) takes all 150 waiting, oldest first: step j's 5 units go in
    // at a level of 5j units, and wait 30 - (j + 0.5) + (5j + 2.5) / 10 = 29.75 - 0.5j s:
    // sum over j = 0..29 of 5 (29.75 - 0.5j) = 5 (892.5 - 217.5) = 3375 request-seconds.
    // From 30 s the level (15 s) falls by 0.5 s a step; step 30 + m's arrivals wait its mean over
    // the step, 14.75 - 0.5m, until it is 0 at 60 s: 5 (30 x 14.75 - 0.5 x 435) = 1125.
    // Mean: (3375 + 1125) / 500 = 9 s. The slowest 1 %: step 0's 5 requests (29.75 s) and step 1's
    // (29.25 s), where the 99th percentile falls.
    // Cost: the worker runs the whole 100 s at $0.001/s: $0.10; 30 s starting, 70 s serving.
    const auto r = simulate(small(1), constant(100), 1);
    const auto& f = r.figures;
    CHECK(f.offered == Approx(500));
    CHECK(f.completed == Approx(500));
    CHECK(f.refused == 0);
    CHECK(f.failed == 0);
    CHECK(f.queue_mean == Approx(9.0));
    CHECK(f.queue_p99 == Approx(29.25).epsilon(0.01));
    CHECK(f.gpu_cost == Approx(0.1));
    CHECK(f.stopped_cost == 0);
    CHECK(f.starting_h * 3600 == Approx(30));
    CHECK(f.serving_h * 3600 == Approx(70));
    CHECK(f.created == 1);
    accounted(f);
    REQUIRE(r.samples.size() == 100);
    CHECK(r.samples[29].ready == 0);
    CHECK(r.samples[30].ready == 1);
    CHECK(r.samples[30].served == Approx(10));
}

TEST_CASE("simulate: a route that waits longer than its client is refused", "[simulate]") {
    // As above with a client that waits 20 s: at 30 s the routes of steps 0..9 (counted from
    // j + 0.5 < 10 s) have waited over 20 s: 50 refused. Steps 10..29 are placed at a level of
    // 5(j - 10) units: 30 - (j + 0.5) + (5(j - 10) + 2.5) / 10 = 24.75 - 0.5j s, 5 x (20 x 24.75 -
    // 0.5 x 390) = 1500 request-seconds; then the level, 10 s, falls to 0 in 20 steps:
    // 5 x (20 x 9.75 - 0.5 x 190) = 500. Mean: 2000 / 450.
    auto c = small(1);
    c.client_timeout = 20;
    const auto f = simulate(c, constant(100), 1).figures;
    CHECK(f.refused == Approx(50));
    CHECK(f.completed == Approx(450));
    CHECK(f.queue_mean == Approx(2000.0 / 450));
    accounted(f);
}

TEST_CASE("simulate: two workers, one kept cold: cost, worker-hours, the queue rule's delay", "[simulate]") {
    // expected_perf 10: at 0 s the policy wants 1 serving (5 / 1 / 10 -> 1) and 2 loaded
    // (cold_workers): it creates both, ready at 30 s. Then routes still wait (the policy runs before
    // they are placed) and their queue has grown 5 units/s: the queue rule asks for the 2 ready and
    // one more (2 at most: max_workers), so both serve. They take the 150 waiting at 20 units/s:
    // 30 - (j + 0.5) + (5j + 2.5) / 20 = 29.625 - 0.75j s, 5 x (30 x 29.625 - 0.75 x 435) = 2812.5;
    // the level, 7.5 s, falls by 0.75 s a step: 5 x (10 x 7.125 - 0.75 x 45) = 187.5. Mean: 6 s.
    // The wish for 2 serving last held at 30 s: one worker stops scale_down_delay (60 s) later, at
    // 91 s, idle, and is stopped at 92 s. Cost: $0.001/s for 100 + 92 s, $0.0001/s for 8 s stopped.
    auto c = small(2);
    c.workers.expected_perf = 10;
    const auto r = simulate(c, constant(100), 1);
    const auto& f = r.figures;
    CHECK(f.completed == Approx(500));
    CHECK(f.queue_mean == Approx(6.0));
    CHECK(f.gpu_cost == Approx(0.192));
    CHECK(f.stopped_cost == Approx(0.0008));
    CHECK(f.starting_h * 3600 == Approx(60));
    CHECK(f.serving_h * 3600 == Approx(131));
    CHECK(f.draining_h * 3600 == Approx(1));
    CHECK(f.cold_h * 3600 == Approx(8));
    CHECK(f.created == 2);
    CHECK(r.samples[90].ready == 2);
    CHECK(r.samples[91].ready == 1);
    CHECK(r.samples[92].stopped == 1);
    accounted(f);
}

TEST_CASE("simulate: failing workers are replaced, their requests counted failed", "[simulate]") {
    auto c = small(4);
    c.workers.mttf_s = Distribution{Kind::constant, 300, 0};
    c.params.min_load = 20;
    c.poisson = true;
    Trace t;
    t.duration = 3000;
    t.expected_by = [](double at) { return 20 * at; };
    const auto f = simulate(c, t, 0).figures;
    CHECK(f.failures > 0);
    CHECK(f.created > c.params.cold_workers);  // each failure replaced
    CHECK(f.failed > 0);
    CHECK(f.offered == Approx(60000).epsilon(0.02));
    accounted(f);
}

TEST_CASE("simulate: the same seed gives the same figures", "[simulate]") {
    auto c = small(3);
    c.workers.start_s = {Kind::lognormal, 10, 0.5};
    c.workers.perf = {Kind::uniform, 5, 15};
    c.workers.mttf_s = Distribution{Kind::exponential, 500, 0};
    c.poisson = true;
    c.seed = 42;
    Trace t;
    t.duration = 2000;
    t.expected_by = [](double at) { return 8 * at + 100 * std::sin(at / 200); };
    const auto a = simulate(c, t, 10).figures, b = simulate(c, t, 10).figures;
    CHECK(a.offered == b.offered);
    CHECK(a.completed == b.completed);
    CHECK(a.queue_p99 == b.queue_p99);
    CHECK(a.gpu_cost == b.gpu_cost);
    CHECK(a.failures == b.failures);
    c.seed = 43;
    CHECK(simulate(c, t, 10).figures.offered != a.offered);
}

TEST_CASE("simulate: a worker that loads longer than ready_within is errored, as the engine does it", "[simulate]") {
    // Loading takes 10 + 700 s, over the engine's 600: at 601 s the worker is errored, the policy
    // destroys it and makes another, which fares no better. With ready_within 900 it serves at 710 s.
    auto c = small(1);
    c.workers.load_s = {Kind::constant, 700, 0};
    const auto r = simulate(c, constant(1500), 1);
    CHECK(r.figures.not_ready == 2);  // at 601 and 1202 s
    CHECK(r.figures.peak_ready == 0);
    CHECK(r.figures.created == 3);
    CHECK(r.samples[600].starting == 1);
    CHECK(r.samples[601].starting == 1);  // destroyed and made again in the same tick
    c.lifetimes.ready_within = 900;
    const auto slow = simulate(c, constant(1500), 1);
    CHECK(slow.figures.not_ready == 0);
    CHECK(first_ready(slow) == 710);
}
