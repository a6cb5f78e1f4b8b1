#pragma once

#include "fleet/worker.hpp"
#include "model/endpoint.hpp"

#include <cstdint>
#include <deque>
#include <string>
#include <utility>
#include <vector>

namespace cppworker::engine {

// The engine's own tuning, beside Vast's documented parameters.
struct PolicyTuning {
    double stable_window = 60;      // s of arrivals the anticipated load is averaged over
    double panic_window = 6;        // s of arrivals a sudden burst is seen in
    double tolerance = 0.1;         // a ratio within 1 ± this changes nothing
    double scale_down_delay = 60;   // s a lower target must hold before workers stop or go
    double error_backoff_max = 60;  // s between replacements of failing workers, at most
};

// The seconds of arrivals the policy reads: what a load meter feeding it must keep.
double longest_window(const PolicyTuning& tuning);

// One workergroup as the policy sees it at one moment.
struct GroupView {
    ScalingParams params;
    double demand_stable = 0;  // load units/s routed to the group's endpoint, over stable_window
    double demand_panic = 0;   // the same over panic_window
    double waiting_cost = 0;   // load of the routes waiting for a worker
    double idle_for = 0;       // s since the last route
    double worker_perf = 1;    // load units/s one worker serves: the best estimate so far
    struct Member {
        int64_t id;
        WorkerState state;
        double cur_load;     // load in flight at it
        bool has_model;      // stopped with its model: a start is quick
        double state_since;  // epoch s
    };
    std::vector<Member> workers;
};

struct Action {
    enum class Kind { create, start, stop, destroy };
    Kind kind;
    int64_t worker = 0;  // 0 for create
};

// What the policy concluded, for the actions and for whoever watches (the log, the dashboard).
struct Decision {
    double anticipated_load = 0;   // units/s
    int active_wanted = 0;         // workers loaded and serving, after the delays
    int total_wanted = 0;          // loaded workers, serving or stopped with their model, after the delays
    int active_formula = 0;        // what the formula says now, before the delays
    int total_formula = 0;
    std::string why;               // the rule that set active_formula
    std::vector<Action> actions;
};

// What the policy remembers from one decision to the next: recent targets (so a lower one must
// hold for scale_down_delay), recent failures (for the replacement back-off) and the queued load
// (how fast it grows).
struct PolicyMemory {
    std::deque<std::pair<double, int>> active_targets;  // (time, target)
    std::deque<std::pair<double, int>> total_targets;
    std::deque<double> failures;                        // when a worker was found errored or lost
    struct Queued {
        double time;
        double load;  // waiting for a worker and in flight at the workers
        int ready;    // workers ready then
    };
    std::deque<Queued> queued;  // over panic_window
    double last_failure = 0;
};

// The load units/s one worker of a group is planned to serve: the median of what its workers
// benchmarked (`benchmarked`, the positive max_perf reported), else the template's expected_perf;
// with neither, one worker is planned for whatever load comes.
double planned_perf(std::vector<double> benchmarked, double expected_perf);

// The scaling rule (README "The local engine: how it scales"): from the group's load, queue,
// workers and parameters at `now` (epoch seconds) to the actions that bring its workers to what
// they should be. A pure function of its arguments; `memory` is read and updated.
Decision decide(const GroupView& group, const PolicyTuning& tuning, PolicyMemory& memory, double now);

}  // namespace cppworker::engine
