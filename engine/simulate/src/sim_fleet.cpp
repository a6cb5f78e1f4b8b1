#include "sim_fleet.hpp"

#include <algorithm>
#include <limits>

namespace cppworker::simulate {
using S = engine::WorkerState;

namespace {

bool running(S s) { return s == S::loading || s == S::model_loading || s == S::ready || s == S::stopping; }

}  // namespace

SimWorker* SimFleet::find(int64_t id) {
    const auto it = std::lower_bound(workers_.begin(), workers_.end(), id,
                                     [](const SimWorker& w, int64_t i) { return w.id < i; });
    return it != workers_.end() && it->id == id ? &*it : nullptr;
}

void SimFleet::start(SimWorker& w, double now, double ready_in) {
    w.state = S::loading;
    w.since = now;
    w.started = now;
    w.until = now + ready_in;
    w.fail_at = w.mttf > 0 ? now + std::exponential_distribution<double>(1 / w.mttf)(rng_)
                           : std::numeric_limits<double>::infinity();
}

// A worker that stops serving takes its share of the pool's load in flight with it: to drain it,
// or lost when it failed.
void SimFleet::leave_pool(SimWorker& w, Pool& pool, bool lose) {
    const double share = pool.rate > 0 ? std::min(w.perf / pool.rate, 1.0) : 1;
    const double load = pool.load * share, requests = pool.requests * share;
    pool.load -= load;
    pool.requests -= requests;
    pool.rate = std::max(pool.rate - w.perf, 0.0);
    if (lose) {
        totals_.failed_requests += requests;
    } else {
        w.backlog = load;
        w.backlog_requests = requests;
    }
}

void SimFleet::advance(double now, Pool& pool) {
    double rate = 0;
    for (auto& w : workers_) {
        if (running(w.state) && w.fail_at <= now) {
            if (w.state == S::ready) leave_pool(w, pool, true);
            totals_.failed_requests += w.backlog_requests;
            w.backlog = w.backlog_requests = 0;
            w.state = S::errored;
            w.since = now;
            ++totals_.failures;
            continue;
        }
        // A new worker loads its model after it starts; a restarted one has it on its disk.
        if (w.state == S::loading && w.until <= now && !w.has_model) {
            w.state = S::model_loading;
            w.since = now;
            w.until += w.load_s;
        }
        if ((w.state == S::loading || w.state == S::model_loading) && w.until <= now) {
            w.state = S::ready;
            w.since = now;
            w.has_model = true;
        }
        // As the engine's check_time(): one still loading so long is taken for broken.
        if ((w.state == S::loading || w.state == S::model_loading) && now - w.started > ready_within_) {
            w.state = S::errored;
            w.since = now;
            ++totals_.not_ready;
            continue;
        }
        if (w.state == S::stopping && w.backlog <= 0) {
            w.state = S::stopped;
            w.since = now;
        }
        if (w.state == S::ready) rate += w.perf;
    }
    pool.rate = rate;
}

void SimFleet::view(engine::GroupView& group, const Pool& pool) const {
    group.workers.clear();
    group.workers.reserve(workers_.size());
    for (const auto& w : workers_) {
        double cur_load = w.backlog;
        if (w.state == S::ready && pool.rate > 0) cur_load = pool.load * w.perf / pool.rate;
        group.workers.push_back({w.id, w.state, cur_load, w.has_model, w.since});
    }
}

double SimFleet::planned_perf() const {
    std::vector<double> benchmarked;
    for (const auto& w : workers_) {
        if (w.has_model) benchmarked.push_back(w.perf);
    }
    return engine::planned_perf(std::move(benchmarked), model_.expected_perf);
}

void SimFleet::apply(const engine::Action& action, double now, Pool& pool) {
    using K = engine::Action::Kind;
    if (action.kind == K::create) {
        SimWorker w;
        w.id = next_id_++;
        const double start_s = model_.start_s.draw(rng_);
        w.load_s = model_.load_s.draw(rng_);
        w.restart_s = model_.restart_s ? model_.restart_s->draw(rng_) : w.load_s;
        w.perf = std::max(model_.perf.draw(rng_), 1e-9);
        w.gpu_rate = model_.cost_per_hour.draw(rng_);
        w.stopped_rate = model_.stopped_cost_per_hour.draw(rng_);
        w.mttf = model_.mttf_s ? std::max(model_.mttf_s->draw(rng_), 1e-9) : 0;
        start(w, now, start_s);
        workers_.push_back(w);
        ++totals_.created;
        return;
    }
    auto* w = find(action.worker);
    if (w == nullptr) return;
    if (action.kind == K::start && w->state == S::stopped) start(*w, now, w->restart_s);
    if (action.kind == K::stop && w->state == S::ready) {
        leave_pool(*w, pool, false);
        w->state = S::stopping;
        w->since = now;
    }
    if (action.kind == K::destroy) {
        if (w->state == S::ready) leave_pool(*w, pool, true);
        totals_.failed_requests += w->backlog_requests;
        workers_.erase(workers_.begin() + (w - workers_.data()));
    }
}

double SimFleet::run_for(double dt) {
    const double hours = dt / 3600;
    double drained = 0;
    for (auto& w : workers_) {
        switch (w.state) {
        case S::loading:
        case S::model_loading: totals_.starting_s += dt; break;
        case S::ready: totals_.serving_s += dt; break;
        case S::stopping: {
            totals_.draining_s += dt;
            const double done = std::min(w.backlog, w.perf * dt);
            const double requests = done >= w.backlog ? w.backlog_requests : w.backlog_requests * done / w.backlog;
            w.backlog = done >= w.backlog ? 0 : w.backlog - done;
            w.backlog_requests = w.backlog > 0 ? w.backlog_requests - requests : 0;
            totals_.completed += requests;
            drained += done;
            break;
        }
        case S::stopped: totals_.cold_s += dt; break;
        default: break;
        }
        if (running(w.state)) totals_.gpu_cost += w.gpu_rate * hours;
        if (w.state == S::stopped) totals_.stopped_cost += w.stopped_rate * hours;
    }
    return drained;
}

double SimFleet::draining_requests() const {
    double n = 0;
    for (const auto& w : workers_) n += w.backlog_requests;
    return n;
}

Census SimFleet::census() const {
    Census c;
    for (const auto& w : workers_) {
        c.ready += w.state == S::ready ? 1 : 0;
        c.starting += w.state == S::loading || w.state == S::model_loading ? 1 : 0;
        c.stopping += w.state == S::stopping ? 1 : 0;
        c.stopped += w.state == S::stopped ? 1 : 0;
    }
    return c;
}

}  // namespace cppworker::simulate
