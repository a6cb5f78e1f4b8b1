#pragma once
// The simulated workers: each drawn from the config's distributions, living through the engine's
// states in virtual time (created -> loading for start_s -> model_loading for load_s -> ready;
// stopping while it drains; stopped with its model, restarted in restart_s; errored at a failure,
// or not ready within the engine's ready_within, until the policy destroys it), billed by state as
// Vast bills (protocol §13.2).
#include "pool.hpp"
#include "sim_config.hpp"

#include "policy/policy.hpp"

#include <cstdint>
#include <random>
#include <vector>

namespace cppworker::simulate {

struct SimWorker {
    int64_t id = 0;
    engine::WorkerState state = engine::WorkerState::loading;
    double since = 0;    // when it entered `state`
    double started = 0;  // when it was last created or started
    double until = 0;    // loading, model_loading: when the next state comes
    double fail_at = 0;  // when it fails, if still running; infinity for never
    double perf = 0, gpu_rate = 0, stopped_rate = 0, load_s = 0, restart_s = 0;
    double mttf = 0;  // its mean time to failure; 0 for never
    bool has_model = false;                     // loaded once: benchmarked, and a restart is quick
    double backlog = 0, backlog_requests = 0;   // stopping: what it still serves
};

// What the workers did and cost, summed over the run.
struct FleetTotals {
    double gpu_cost = 0, stopped_cost = 0;                                        // $
    double serving_s = 0, starting_s = 0, draining_s = 0, cold_s = 0;           // worker-seconds
    double failed_requests = 0;   // in flight at a worker when it failed
    double completed = 0;         // requests a stopping worker finished
    int64_t created = 0, failures = 0;
    int64_t not_ready = 0;  // errored for not being ready within ready_within (as the engine does)
};

// How many workers are in each state now.
struct Census {
    int ready = 0, starting = 0, stopping = 0, stopped = 0;
};

class SimFleet {
public:
    // `ready_within`: the engine's lifetimes.ready_within, after which a worker still loading is errored.
    SimFleet(const WorkerModel& model, double ready_within, uint64_t seed)
        : model_(model), ready_within_(ready_within), rng_(seed) {}

    // The state changes due by `now`: loads finished, drains done, failures.
    void advance(double now, Pool& pool);
    // The policy's view of the workers.
    void view(engine::GroupView& group, const Pool& pool) const;
    // The planned perf: the median of what loaded workers benchmarked, as the engine plans it.
    double planned_perf() const;
    void apply(const engine::Action& action, double now, Pool& pool);
    // The stopping workers drain for `dt`; every worker is billed for it. Returns the load drained.
    double run_for(double dt);

    const FleetTotals& totals() const { return totals_; }
    Census census() const;
    // Requests a stopping worker still serves.
    double draining_requests() const;
    std::size_t size() const { return workers_.size(); }

private:
    SimWorker* find(int64_t id);
    void start(SimWorker& w, double now, double ready_in);
    void leave_pool(SimWorker& w, Pool& pool, bool lose);

    WorkerModel model_;
    double ready_within_;
    std::mt19937_64 rng_;
    std::vector<SimWorker> workers_;  // by id
    int64_t next_id_ = 1;
    FleetTotals totals_;
};

}  // namespace cppworker::simulate
