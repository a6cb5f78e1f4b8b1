// The 1,000-worker day: a day's trace that needs up to about 1,000 workers, within 10 s of the
// simulator's own CPU time in the plain build. Sanitizer builds run three hours of it under a
// ceiling of their own: they are tens of times slower and time means little there.
#include "simulation.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <iostream>

using namespace cppworker::simulate;
using Kind = Distribution::Kind;

namespace {

#ifdef CPPWORKER_SANITIZED_BUILD
constexpr double hours = 3;
constexpr double cpu_ceiling_s = 120;
#else
constexpr double hours = 24;
constexpr double cpu_ceiling_s = 10;
#endif

}  // namespace

TEST_CASE("simulate: 1,000 workers through a day, within its time", "[simulate]") {
    SimConfig c;
    c.workers.start_s = {Kind::lognormal, 60, 0.3};
    c.workers.load_s = {Kind::lognormal, 120, 0.3};
    c.workers.perf = {Kind::lognormal, 10, 0.1};
    c.workers.cost_per_hour = {Kind::uniform, 0.5, 1.5};
    c.workers.stopped_cost_per_hour = {Kind::constant, 0.05, 0};
    c.workers.mttf_s = Distribution{Kind::constant, 5 * 86400, 0};
    c.workers.expected_perf = 10;
    c.params.target_util = 0.9;
    c.params.cold_mult = 1.5;
    c.params.cold_workers = 5;
    c.params.max_workers = 1000;
    c.params.min_load = 10;
    c.seed = 2026;
    Trace t;
    t.duration = hours * 3600;
    // 4,750 - 3,750 cos(2 pi (t - 3 h) / 1 day) requests a second: 1,000 at 3 h, 8,500 at 15 h;
    // the requests by `at` are its integral.
    t.expected_by = [](double at) {
        return 4750 * at - 3750 * 86400 / (2 * M_PI) *
                               (std::sin(2 * M_PI * (at - 3 * 3600) / 86400) - std::sin(2 * M_PI * (-3 * 3600) / 86400));
    };
    const std::clock_t began = std::clock();
    const auto r = simulate(c, t, 0);
    const double cpu = static_cast<double>(std::clock() - began) / CLOCKS_PER_SEC;
    const auto& f = r.figures;
    std::cout << "1,000-worker day (" << hours << " h): " << cpu << " s CPU, " << f.policy_cpu_s << " s of it in the policy; "
              << f.peak_ready << " ready at most, " << f.offered << " requests, p99 " << f.queue_p99 << " s, $"
              << f.gpu_cost + f.stopped_cost << "\n";
    CHECK(cpu < cpu_ceiling_s);
    CHECK(f.offered == Approx(t.expected_by(t.duration)).epsilon(0.001));
    CHECK(f.completed + f.refused + f.failed + f.waiting_at_end + f.in_flight_at_end == Approx(f.offered));
    CHECK(f.refused < f.offered * 0.001);
    CHECK(f.queue_p50 < 1);
    if (hours == 24) {
        // The peak, 8,500 units/s over 0.9 and 10 a worker, wants about 945 serving.
        CHECK(f.peak_ready > 850);
        CHECK(f.peak_ready <= 1000);
        // About 4,750 units/s on average over 9 a worker: about 530 workers serving the day through.
        CHECK(f.serving_h > 24 * 450);
        CHECK(f.serving_h < 24 * 700);
        CHECK(f.failures > 50);  // 5 days between failures, hundreds of workers
    }
}
