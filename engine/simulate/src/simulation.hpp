#pragma once
// The engine's policy (engine/src/policy: decide(), planned_perf()) and its load meter
// (engine/src/routing: LoadMeter) run in virtual time against simulated workers and a trace: time
// moves in steps; each step's arrivals are a count (Poisson, or the expected number); the ready
// workers serve as one fluid pool (pool.hpp); the policy runs every tick, as the engine's loop runs it.
#include "sim_config.hpp"
#include "trace.hpp"

#include <cstdint>
#include <vector>

namespace cppworker::simulate {

// One point of the run's time series: means over the interval that ends at t, except the queue
// times, which are of the requests placed in it (NaN when none was).
struct Sample {
    double t = 0;
    double offered = 0, served = 0;  // load units/s
    double queue_p50 = 0, queue_p99 = 0;  // s
    double ready = 0, starting = 0, stopping = 0, stopped = 0;  // workers
    double active_wanted = 0, total_wanted = 0;  // the policy's counts after its delays
    double waiting_load = 0;  // load units waiting for a route
    double cost_per_hour = 0;  // $/h the workers cost then
};

struct Figures {
    double offered = 0, offered_load = 0;  // requests, and their load units
    double completed = 0;      // requests served to the end
    double refused = 0;        // waited longer than client_timeout for a route: their client gave up
    double failed = 0;         // in flight at a worker that failed (or was destroyed)
    double waiting_at_end = 0, in_flight_at_end = 0;
    double queue_p50 = 0, queue_p90 = 0, queue_p99 = 0, queue_mean = 0;  // s, of the requests placed
    double gpu_cost = 0, stopped_cost = 0;  // $
    double serving_h = 0, starting_h = 0, draining_h = 0, cold_h = 0;  // worker-hours by state
    int64_t created = 0, failures = 0;
    int64_t not_ready = 0;  // workers errored for not being ready within lifetimes.ready_within
    int peak_ready = 0;
    int64_t steps = 0, policy_runs = 0;
    double policy_cpu_s = 0;  // s of CPU in decide() and building its view, over the run
};

struct SimResult {
    Figures figures;
    std::vector<Sample> samples;
};

// `sample_every`: s between two samples, a whole number of steps (0: about 720 over the trace).
SimResult simulate(const SimConfig& config, const Trace& trace, double sample_every = 0);

}  // namespace cppworker::simulate
