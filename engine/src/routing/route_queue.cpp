#include "routing/route_queue.hpp"

#include <algorithm>
#include <limits>

namespace cppworker::engine {
namespace {

// Index of the candidate whose queue is shortest now, among those still within max_queue_time.
std::optional<std::size_t> shortest(const std::vector<Candidate>& candidates, double max_queue_time) {
    std::optional<std::size_t> best;
    double best_wait = std::numeric_limits<double>::infinity();
    for (std::size_t i = 0; i < candidates.size(); ++i) {
        const auto& c = candidates[i];
        if (c.perf <= 0) continue;
        const double wait = c.load / c.perf;
        if (wait <= max_queue_time && wait < best_wait) {
            best = i;
            best_wait = wait;
        }
    }
    return best;
}

}  // namespace

std::optional<int64_t> pick_worker(std::vector<Candidate> candidates, const std::vector<double>& ahead,
                                   double max_queue_time) {
    for (const double earlier : ahead) {
        const auto i = shortest(candidates, max_queue_time);
        if (!i) return std::nullopt;
        candidates[*i].load += earlier;
    }
    const auto i = shortest(candidates, max_queue_time);
    if (!i) return std::nullopt;
    return candidates[*i].id;
}

void RouteQueue::wait(int64_t request_idx, double cost, double replay_timeout, double now) {
    const auto it = std::find_if(entries_.begin(), entries_.end(),
                                 [&](const Entry& e) { return e.request_idx == request_idx; });
    if (it != entries_.end()) {
        it->last_seen = now;
        it->cost = cost;
        it->replay_timeout = replay_timeout;
        return;
    }
    entries_.push_back(Entry{request_idx, cost, now, now, replay_timeout});
}

std::vector<double> RouteQueue::costs_ahead(int64_t request_idx) const {
    std::vector<double> costs;
    for (const auto& e : entries_) {
        if (e.request_idx == request_idx) break;
        costs.push_back(e.cost);
    }
    return costs;
}

void RouteQueue::remove(int64_t request_idx) {
    std::erase_if(entries_, [&](const Entry& e) { return e.request_idx == request_idx; });
}

std::size_t RouteQueue::expire(double now) {
    return std::erase_if(entries_, [&](const Entry& e) { return now - e.last_seen > e.replay_timeout; });
}

double RouteQueue::total_cost() const {
    double total = 0;
    for (const auto& e : entries_) total += e.cost;
    return total;
}

}  // namespace cppworker::engine
