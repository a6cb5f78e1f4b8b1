#include "simulation.hpp"

#include "pool.hpp"
#include "sim_fleet.hpp"
#include "waits.hpp"

#include "routing/load_meter.hpp"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <deque>
#include <random>

namespace cppworker::simulate {
namespace {

class Recorder : public WaitSink {
public:
    void placed(double seconds, double requests) override {
        all.add(seconds, requests);
        interval.add(seconds, requests);
    }
    WaitHistogram all, interval;
};

// The trace's arrivals, step by step.
class Arrivals {
public:
    Arrivals(const Trace& trace, const SimConfig& c, std::seed_seq& seed) : trace_(trace), config_(c), rng_(seed) {}

    Cohort between(double from, double to, bool last) {
        Cohort k{from, 0, 0};
        if (trace_.expected_by) {
            const double mean = std::max(trace_.expected_by(to) - trace_.expected_by(from), 0.0);
            k.requests = config_.poisson && mean > 0
                             ? static_cast<double>(std::poisson_distribution<long long>(mean)(rng_))
                             : mean;
            k.load = k.requests * config_.request_cost;
            return k;
        }
        for (; next_ < trace_.arrivals.size() && (trace_.arrivals[next_].t < to || last); ++next_) {
            k.requests += 1;
            k.load += trace_.arrivals[next_].cost;
        }
        return k;
    }

private:
    const Trace& trace_;
    const SimConfig& config_;
    std::mt19937_64 rng_;
    std::size_t next_ = 0;
};

// Sums over the steps of one sample's interval.
struct Interval {
    int steps = 0;
    Sample sum;

    void add(const Census& census, double offered, double served, double waiting, double cost_rate) {
        ++steps;
        sum.offered += offered;
        sum.served += served;
        sum.ready += census.ready;
        sum.starting += census.starting;
        sum.stopping += census.stopping;
        sum.stopped += census.stopped;
        sum.waiting_load += waiting;
        sum.cost_per_hour += cost_rate;
    }

    Sample close(double t, double dt, const engine::Decision& d, WaitHistogram& waits) {
        const double n = steps;
        Sample s{t,
                 sum.offered / n / dt,
                 sum.served / n / dt,
                 waits.quantile(0.5),
                 waits.quantile(0.99),
                 sum.ready / n,
                 sum.starting / n,
                 sum.stopping / n,
                 sum.stopped / n,
                 static_cast<double>(d.active_wanted),
                 static_cast<double>(d.total_wanted),
                 sum.waiting_load / n,
                 sum.cost_per_hour / n};
        waits.clear();
        *this = Interval{};
        return s;
    }
};

double waiting_load(const std::deque<Cohort>& waiting) {
    double load = 0;
    for (const auto& c : waiting) load += c.load;
    return load;
}

// Routes that waited longer than their client does are given up: refused.
double refuse(std::deque<Cohort>& waiting, double now, double client_timeout) {
    double refused = 0;
    while (!waiting.empty() && now - waiting.front().t > client_timeout) {
        refused += waiting.front().requests;
        waiting.pop_front();
    }
    return refused;
}

struct Run {
    const SimConfig& config;
    SimFleet fleet;
    Pool pool;
    std::deque<Cohort> waiting;
    engine::LoadMeter meter;
    engine::PolicyMemory memory;
    engine::GroupView view;
    engine::Decision decision;
    Figures& figures;

    // As the engine's scale_group() does it, from the simulated fleet.
    void policy(double now) {
        const std::clock_t began = std::clock();
        view.params = config.params;
        view.demand_stable = meter.rate(config.tuning.stable_window, now);
        view.demand_panic = meter.rate(config.tuning.panic_window, now);
        view.waiting_cost = waiting_load(waiting);
        view.idle_for = now - meter.last_arrival();
        view.worker_perf = fleet.planned_perf();
        fleet.view(view, pool);
        decision = engine::decide(view, config.tuning, memory, now);
        for (const auto& a : decision.actions) fleet.apply(a, now, pool);
        figures.policy_cpu_s += static_cast<double>(std::clock() - began) / CLOCKS_PER_SEC;
        ++figures.policy_runs;
    }
};

double cost_rate(const SimFleet& fleet, double gpu_before, double stopped_before, double dt) {
    return (fleet.totals().gpu_cost - gpu_before + fleet.totals().stopped_cost - stopped_before) * 3600 / dt;
}

void finish(Figures& f, const Run& run, const Recorder& waits) {
    const auto& t = run.fleet.totals();
    f.completed = run.pool.completed + t.completed;
    f.failed = t.failed_requests;
    f.waiting_at_end = 0;
    for (const auto& c : run.waiting) f.waiting_at_end += c.requests;
    f.in_flight_at_end = run.pool.requests + run.fleet.draining_requests();
    f.queue_p50 = waits.all.quantile(0.5);
    f.queue_p90 = waits.all.quantile(0.9);
    f.queue_p99 = waits.all.quantile(0.99);
    f.queue_mean = waits.all.mean();
    f.gpu_cost = t.gpu_cost;
    f.stopped_cost = t.stopped_cost;
    f.serving_h = t.serving_s / 3600;
    f.starting_h = t.starting_s / 3600;
    f.draining_h = t.draining_s / 3600;
    f.cold_h = t.cold_s / 3600;
    f.created = t.created;
    f.failures = t.failures;
    f.not_ready = t.not_ready;
}

}  // namespace

SimResult simulate(const SimConfig& c, const Trace& trace, double sample_every) {
    SimResult result;
    auto& f = result.figures;
    const double dt = c.step;
    const auto steps = static_cast<int64_t>(std::ceil(trace.duration / dt - 1e-9));
    const auto per_tick = std::max<int64_t>(1, std::llround(c.tick / dt));
    const auto per_sample = std::max<int64_t>(1, sample_every > 0 ? std::llround(sample_every / dt) : steps / 720);
    std::seed_seq arrival_seed{c.seed, uint64_t{1}}, worker_seed{c.seed, uint64_t{2}};
    Arrivals arrivals(trace, c, arrival_seed);
    Run run{c, SimFleet(c.workers, c.lifetimes.ready_within, std::mt19937_64(worker_seed)()), {}, {},
            engine::LoadMeter(engine::longest_window(c.tuning)), {}, {}, {}, f};
    Recorder waits;
    Interval interval;
    for (int64_t i = 0; i < steps; ++i) {
        const double now = static_cast<double>(i) * dt;
        run.fleet.advance(now, run.pool);
        f.refused += refuse(run.waiting, now, c.client_timeout);
        if (i % per_tick == 0) run.policy(now);
        const Cohort arriving = arrivals.between(now, now + dt, i == steps - 1);
        if (arriving.requests > 0) run.meter.arrived(arriving.load, now + dt / 2);
        f.offered += arriving.requests;
        f.offered_load += arriving.load;
        const double gpu = run.fleet.totals().gpu_cost, stopped = run.fleet.totals().stopped_cost;
        double served = route_and_serve(run.waiting, arriving, run.pool, c.params.max_queue_time, now, dt, waits);
        served += run.fleet.run_for(dt);
        const Census census = run.fleet.census();
        f.peak_ready = std::max(f.peak_ready, census.ready);
        interval.add(census, arriving.load, served, waiting_load(run.waiting), cost_rate(run.fleet, gpu, stopped, dt));
        if ((i + 1) % per_sample == 0 || i == steps - 1) {
            result.samples.push_back(interval.close(now + dt, dt, run.decision, waits.interval));
        }
    }
    f.steps = steps;
    finish(f, run, waits);
    return result;
}

}  // namespace cppworker::simulate
