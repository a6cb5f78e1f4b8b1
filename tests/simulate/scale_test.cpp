// A step trace: capacity follows with the delays README "How it scales" says (panic and stable
// windows, tolerance, start and load times, scale_down_delay).
#include "simulation.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

using namespace cppworker::simulate;
using Kind = Distribution::Kind;

namespace {

// The first step (s) whose samples say `count` of `field`, from `from` on; -1 if none.
double first(const SimResult& r, double Sample::*field, double count, double from) {
    for (const auto& s : r.samples) {
        if (s.t - 1 >= from && s.*field == count) return s.t - 1;
    }
    return -1;
}

// Workers of 10 units/s, ready 30 + 30 s after creation; target_util 1, cold_mult 1, no cold
// workers; max_queue_time and target_queue_time high enough that no route waits once a worker is
// ready and no queue counts as long (so the queue rule stays out but in the first minute, before
// any worker is ready).
SimConfig workers_of_10() {
    SimConfig c;
    c.workers.start_s = {Kind::constant, 30, 0};
    c.workers.load_s = {Kind::constant, 30, 0};
    c.workers.perf = {Kind::constant, 10, 0};
    c.workers.expected_perf = 10;
    c.params.min_load = 0;
    c.params.target_util = 1;
    c.params.cold_mult = 1;
    c.params.cold_workers = 0;
    c.params.max_workers = 20;
    c.params.inactivity_timeout = -1;
    c.params.max_queue_time = 1000;
    c.params.target_queue_time = 1000;
    c.poisson = false;
    return c;
}

// 15 units/s for 600 s, then 30, for 900 s, on workers_of_10() with cold_mult 2 and a restart
// of 5 s: on 15 units/s 2 serve and a third is kept stopped with its model (2 x 15 / 10 = 3).
SimResult cold_worker_step(int max_workers) {
    auto c = workers_of_10();
    c.params.cold_mult = 2;
    c.params.max_workers = max_workers;
    c.workers.restart_s = Distribution{Kind::constant, 5, 0};
    Trace t;
    t.duration = 900;
    t.expected_by = [](double at) { return 15 * std::min(at, 600.0) + 30 * std::max(at - 600, 0.0); };
    return simulate(c, t, 1);
}

}  // namespace

TEST_CASE("simulate: a step of load: workers follow with the rule's delays", "[simulate]") {
    // Load: 15 units/s for 600 s, 50 for 600 s, 15 for 900 s.
    const SimConfig c = workers_of_10();
    Trace t;
    t.duration = 2100;
    t.expected_by = [](double at) {
        return 15 * std::min(at, 600.0) + 50 * std::clamp(at - 600, 0.0, 600.0) + 15 * std::max(at - 1200, 0.0);
    };
    const auto r = simulate(c, t, 1);
    REQUIRE(r.samples.size() == 2100);
    // Settled on 15 units/s: 2 serving.
    CHECK(r.samples[599].ready == 2);
    CHECK(r.samples[599].starting == 0);
    // Up: the panic window (6 s) sees the step a sixth at a time. At 601 s it holds 5 x 15 + 50
    // over 6 = 20.8 units/s: 2.08 workers, within the 10 % tolerance of 2: nothing. At 602 s,
    // 26.7: 3 (create); 603 s, 32.5: 3.25, within 10 % of 3; 604 s, 38.3: 4 (create); 605 s,
    // 44.2: 4.42, over 4 by more than 10 %: 5 (create). Each is ready 60 s later.
    CHECK(r.samples[601].starting == 0);
    CHECK(first(r, &Sample::starting, 1, 600) == 602);
    CHECK(first(r, &Sample::starting, 2, 600) == 604);
    CHECK(first(r, &Sample::starting, 3, 600) == 605);
    CHECK(first(r, &Sample::ready, 3, 600) == 662);
    CHECK(first(r, &Sample::ready, 4, 600) == 664);
    CHECK(first(r, &Sample::ready, 5, 600) == 665);
    CHECK(r.samples[1199].ready == 5);
    // Down at 1200 s: the panic rate falls at once, the stable one (60 s) by 35/60 a second, so
    // the anticipated load is 50 - 35 x (t - 1200) / 60. The formula's last 5 is at 1217 s
    // (40.7 units/s), its last 4 at 1234 s (30.2), its last 3 at 1251 s (20.25); each lower count
    // applies once it has held scale_down_delay (60 s): at 1278, 1295 and 1312 s.
    CHECK(r.samples[1277].ready == 5);
    CHECK(r.samples[1278].ready == 4);
    CHECK(r.samples[1294].ready == 4);
    CHECK(r.samples[1295].ready == 3);
    CHECK(r.samples[1311].ready == 3);
    CHECK(r.samples[1312].ready == 2);
    CHECK(r.samples[2099].ready == 2);
    CHECK(r.figures.refused == 0);
    CHECK(first(r, &Sample::starting, 4, 600) == -1);  // the step's three, no more
}

TEST_CASE("simulate: a worker kept cold comes back in restart_s, before new ones are made", "[simulate]") {
    // As above, with cold_mult 2, max_workers 3 and restart_s 5: on 15 units/s, 2 serve and a
    // third is kept stopped with its model (2 x 15 / 10 = 3 loaded). The load steps to 30 at
    // 600 s; at 603 s the panic window holds 22.5 units/s: 2.25 workers, over 2 by more than 10 %:
    // 3 serving. The stopped one starts (no new one: max_workers) and serves at 608 s.
    const auto r = cold_worker_step(3);
    CHECK(r.samples[599].ready == 2);
    CHECK(r.samples[599].stopped == 1);
    CHECK(r.samples[602].starting == 0);
    CHECK(r.samples[603].starting == 1);
    CHECK(r.samples[603].stopped == 0);
    CHECK(first(r, &Sample::ready, 3, 600) == 608);
}

TEST_CASE("simulate: a worker kept cold comes back though a new one loads for the loaded count", "[simulate]") {
    // As above with max_workers 20: at 601 s the panic window holds 17.5 units/s; twice that is
    // 3.5 workers loaded, over 3 by more than 10 %: a fourth is made, ready in 60 s (a fifth at
    // 603 s, 45 units/s: 4.5 loaded). At 603 s 3 must serve: the stopped one starts, though new
    // ones are loading, and serves at 608 s (it used to count a new one as serving and wait for
    // it: 661 s).
    const auto r = cold_worker_step(20);
    CHECK(r.samples[599].ready == 2);
    CHECK(r.samples[599].stopped == 1);
    CHECK(first(r, &Sample::starting, 1, 600) == 601);
    CHECK(r.samples[602].stopped == 1);
    CHECK(r.samples[603].stopped == 0);
    CHECK(first(r, &Sample::ready, 3, 600) == 608);
}

TEST_CASE("simulate: routes waiting while workers load ask for no more than the load needs", "[simulate]") {
    // Load: 15 units/s for 600 s, then 50; routes wait once the workers' queue passes 30 s. The
    // step wants 5 serving (3 made at 602, 604 and 605 s, ready 60 s later, as in the first case);
    // meanwhile routes wait and their queue grows, at most 30 units/s, less than the 3 starting
    // bring: no more are made. (Sizing for the waiting load itself, over target_queue_time, made
    // one more each time another 100 units waited: 10 in all.)
    auto c = workers_of_10();
    c.params.max_queue_time = 30;
    c.params.target_queue_time = 10;
    Trace t;
    t.duration = 1200;
    t.expected_by = [](double at) { return 15 * std::min(at, 600.0) + 50 * std::max(at - 600, 0.0); };
    const auto r = simulate(c, t, 1);
    CHECK(r.samples[599].ready == 2);
    CHECK(first(r, &Sample::ready, 5, 600) == 665);
    CHECK(r.figures.created == 5);
    CHECK(r.samples[1199].ready == 5);
    CHECK(r.figures.refused == 0);
}
