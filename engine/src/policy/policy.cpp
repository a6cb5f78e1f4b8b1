#include "policy/policy.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace cppworker::engine {
namespace {

// How many workers serving `perf` each carry `load`.
int workers_for(double load, double perf) {
    if (load <= 0) return 0;
    return static_cast<int>(std::ceil(load / perf - 1e-9));
}

// Scaling the active workers to zero: only with min_load 0, and once the endpoint was idle for
// inactivity_timeout (0 or unset: at once; negative: never).
bool zero_allowed(const GroupView& g) {
    const auto& timeout = g.params.inactivity_timeout;
    if (g.params.min_load > 0) return false;
    if (!timeout || *timeout == 0) return true;
    return *timeout > 0 && g.idle_for >= *timeout;
}

bool serving(WorkerState s) {
    return s == WorkerState::loading || s == WorkerState::model_loading || s == WorkerState::ready;
}

bool failed(WorkerState s) { return s == WorkerState::errored || s == WorkerState::lost; }

// `needed` workers, or `now` when that is within the tolerance of it: a load that wavers around a
// worker boundary changes nothing.
int tolerated(double needed, int now, double tolerance) {
    const int target = static_cast<int>(std::ceil(needed - 1e-9));
    if (now > 0 && target != now && std::abs(needed / now - 1) <= tolerance) return now;
    return target;
}

void formula(const GroupView& g, const PolicyTuning& t, int serving_now, int kept_now, Decision& d) {
    const auto& p = g.params;
    const double perf = std::max(g.worker_perf, 1e-9);
    d.anticipated_load = std::max({g.demand_stable, g.demand_panic, p.min_load});
    d.active_formula = tolerated(d.anticipated_load / p.target_util / perf, serving_now, t.tolerance);
    d.why = fmt::format("load {:.4g}/s over target_util {:.3g} at {:.4g}/s a worker", d.anticipated_load,
                        p.target_util, perf);
    double in_flight = 0;
    for (const auto& w : g.workers) {
        if (serving(w.state)) in_flight += w.cur_load;
    }
    const int for_queue = workers_for((g.waiting_cost + in_flight) / p.target_queue_time, perf);
    if (g.waiting_cost > 0 && for_queue > d.active_formula) {
        d.active_formula = for_queue;
        d.why = fmt::format("{:.4g} load waiting and {:.4g} in flight, over target_queue_time {:.3g} s",
                            g.waiting_cost, in_flight, p.target_queue_time);
    }
    if (d.active_formula == 0 && !zero_allowed(g)) {
        d.active_formula = 1;
        d.why = "one worker kept serving until scaling to zero is permitted";
    }
    const int for_cold = tolerated(std::max(p.cold_mult * d.anticipated_load, p.min_cold_load) / perf, kept_now,
                                   t.tolerance);
    d.total_formula = std::min(std::max({for_cold, p.cold_workers, d.active_formula}), p.max_workers);
    d.active_formula = std::min(d.active_formula, d.total_formula);
}

// The highest target of the last `delay` seconds: a higher one applies at once, a lower one only
// once it has held that long (the Kubernetes HPA's scale-down stabilization).
int stabilized(std::deque<std::pair<double, int>>& targets, int target, double delay, double now) {
    targets.emplace_back(now, target);
    while (!targets.empty() && targets.front().first < now - delay) targets.pop_front();
    int highest = target;
    for (const auto& [when, t] : targets) highest = std::max(highest, t);
    return highest;
}

// Replacements of failing workers are spaced out: the first failure in 5 minutes is replaced at
// once; after the n-th, the next worker is created 2^(n-1) s after it, at most error_backoff_max.
bool may_create(PolicyMemory& m, const PolicyTuning& t, double now) {
    while (!m.failures.empty() && m.failures.front() < now - 300) m.failures.pop_front();
    if (m.failures.size() <= 1) return true;
    const double wait = std::min(std::pow(2.0, static_cast<double>(m.failures.size()) - 1), t.error_backoff_max);
    return now - m.last_failure >= wait;
}

void act(const GroupView& g, const PolicyTuning& t, PolicyMemory& memory, double now, Decision& d) {
    std::vector<const GroupView::Member*> ready, stopped;
    int serving_count = 0, quick = 0, kept = 0;
    for (const auto& w : g.workers) {
        if (failed(w.state)) {
            memory.failures.push_back(now);
            memory.last_failure = now;
            d.actions.push_back({Action::Kind::destroy, w.id});
            continue;
        }
        ++kept;
        if (serving(w.state)) ++serving_count;
        // Ready, or started again with its model: serving within a restart.
        if (w.state == WorkerState::ready || (serving(w.state) && w.has_model)) ++quick;
        if (w.state == WorkerState::ready) ready.push_back(&w);
        if (w.state == WorkerState::stopped) stopped.push_back(&w);
    }
    // A stopped worker that kept its model comes back faster than a new one: it starts whenever
    // the serving count wanted is over the workers ready or restarting, even if new workers are
    // loading (one made for the loaded count must not delay it by its whole load time; once it
    // is ready, the least busy worker past the count stops and is the cold one).
    std::sort(stopped.begin(), stopped.end(), [](auto* a, auto* b) { return a->has_model > b->has_model; });
    std::size_t starts = 0;
    for (int missing = d.active_wanted - quick; missing > 0 && starts < stopped.size() && stopped[starts]->has_model;
         --missing) {
        ++starts;
    }
    // What the serving and starting workers do not cover: stopped workers without their model,
    // then new ones.
    int missing = std::max(d.active_wanted - serving_count - static_cast<int>(starts), 0);
    for (; missing > 0 && starts < stopped.size(); --missing) ++starts;
    for (std::size_t i = 0; i < starts; ++i) d.actions.push_back({Action::Kind::start, stopped[i]->id});
    // A new worker serves once loaded, and counts toward the total from the start.
    const int to_create = std::min(std::max(missing, d.total_wanted - kept), g.params.max_workers - kept);
    if (to_create > 0 && may_create(memory, t, now)) {
        for (int i = 0; i < to_create; ++i) d.actions.push_back({Action::Kind::create, 0});
    }
    // Only loaded workers stop, the least busy first, and never below the active count wanted:
    // one still loading keeps its load and stops when loaded, so it becomes a quick-starting
    // stopped worker.
    if (static_cast<int>(ready.size()) > d.active_wanted) {
        std::sort(ready.begin(), ready.end(), [](auto* a, auto* b) { return a->cur_load < b->cur_load; });
        const auto excess = ready.size() - static_cast<std::size_t>(d.active_wanted);
        for (std::size_t i = 0; i < excess; ++i) d.actions.push_back({Action::Kind::stop, ready[i]->id});
    }
    // Past the total wanted, stopped workers go, the oldest first; none that a start above needs.
    if (kept > d.total_wanted) {
        std::sort(stopped.begin() + static_cast<std::ptrdiff_t>(starts), stopped.end(),
                  [](auto* a, auto* b) { return a->state_since < b->state_since; });
        const auto excess = static_cast<std::size_t>(kept - d.total_wanted);
        for (std::size_t i = starts; i < std::min(starts + excess, stopped.size()); ++i) {
            d.actions.push_back({Action::Kind::destroy, stopped[i]->id});
        }
    }
}

}  // namespace

double longest_window(const PolicyTuning& tuning) { return std::max(tuning.stable_window, tuning.panic_window); }

double planned_perf(std::vector<double> benchmarked, double expected_perf) {
    if (!benchmarked.empty()) {
        const auto middle = benchmarked.begin() + static_cast<std::ptrdiff_t>(benchmarked.size() / 2);
        std::nth_element(benchmarked.begin(), middle, benchmarked.end());
        return *middle;
    }
    return expected_perf > 0 ? expected_perf : 1e18;
}

Decision decide(const GroupView& group, const PolicyTuning& tuning, PolicyMemory& memory, double now) {
    Decision d;
    int serving_now = 0, kept_now = 0;
    for (const auto& w : group.workers) {
        serving_now += serving(w.state) ? 1 : 0;
        kept_now += failed(w.state) ? 0 : 1;
    }
    formula(group, tuning, serving_now, kept_now, d);
    d.active_wanted = stabilized(memory.active_targets, d.active_formula, tuning.scale_down_delay, now);
    d.total_wanted = stabilized(memory.total_targets, d.total_formula, tuning.scale_down_delay, now);
    act(group, tuning, memory, now, d);
    return d;
}

}  // namespace cppworker::engine
