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

// The load queued for the group (routes waiting for a worker, and load in flight at its workers).
double queued_load(const GroupView& g) {
    double load = g.waiting_cost;
    for (const auto& w : g.workers) {
        if (serving(w.state)) load += w.cur_load;
    }
    return load;
}

// The queued load grows at what comes less what the workers ready serve; over the panic window,
// the load that came is that growth plus what the workers ready then served. Returns the workers
// it needs at `perf` each (0 until two runs are kept) and the growth.
int workers_for_queued(double load, int ready, const PolicyTuning& t, PolicyMemory& m, double perf, double now,
                       double& growth) {
    m.queued.push_back({now, load, ready});
    while (m.queued.size() > 2 && m.queued[1].time <= now - t.panic_window) m.queued.pop_front();
    growth = 0;
    if (m.queued.size() < 2) return 0;
    // The workers ready over the window, each run's count held until the next.
    double ready_seconds = 0;
    for (std::size_t i = 0; i + 1 < m.queued.size(); ++i) {
        ready_seconds += m.queued[i].ready * (m.queued[i + 1].time - m.queued[i].time);
    }
    const double span = now - m.queued.front().time;
    growth = (load - m.queued.front().load) / span;
    return workers_for(std::max(ready_seconds / span * perf + growth, 0.0), perf);
}

void formula(const GroupView& g, const PolicyTuning& t, PolicyMemory& m, double now, int serving_now, int kept_now,
             Decision& d) {
    const auto& p = g.params;
    const double perf = std::max(g.worker_perf, 1e-9);
    d.anticipated_load = std::max({g.demand_stable, g.demand_panic, p.min_load});
    d.active_formula = tolerated(d.anticipated_load / p.target_util / perf, serving_now, t.tolerance);
    d.why = fmt::format("load {:.4g}/s over target_util {:.3g} at {:.4g}/s a worker", d.anticipated_load,
                        p.target_util, perf);
    // While routes wait, or the queue over the workers ready is longer than target_queue_time,
    // the queue shows the load that comes: it grows at what the workers ready leave unserved.
    // Workers for that load are wanted, and workers starting count toward them (each serves perf
    // once ready), so only a shortfall makes more; what queued while they started, they drain
    // then, with the headroom of target_util. (Sizing for the queued load itself asked for a
    // worker per perf x target_queue_time queued, more every second while the first ones loaded.)
    int ready = 0;
    for (const auto& w : g.workers) ready += w.state == WorkerState::ready ? 1 : 0;
    const double load = queued_load(g);
    double growth = 0;
    const int for_queue = std::max(workers_for_queued(load, ready, t, m, perf, now, growth), ready);
    const bool long_queue = g.waiting_cost > 0 || load > ready * perf * p.target_queue_time;
    if (long_queue && for_queue > d.active_formula) {
        d.active_formula = for_queue;
        d.why = fmt::format("{:.4g} load queued ({:.4g} waiting), growing {:.4g}/s beside {} ready", load,
                            g.waiting_cost, growth, ready);
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
    formula(group, tuning, memory, now, serving_now, kept_now, d);
    d.active_wanted = stabilized(memory.active_targets, d.active_formula, tuning.scale_down_delay, now);
    d.total_wanted = stabilized(memory.total_targets, d.total_formula, tuning.scale_down_delay, now);
    act(group, tuning, memory, now, d);
    return d;
}

}  // namespace cppworker::engine
