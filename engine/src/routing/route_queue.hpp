#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cppworker::engine {

// A ready worker as routing weighs it.
struct Candidate {
    int64_t id;
    double load;  // in flight at its last report, plus what was routed to it since
    double perf;  // max_perf: load units it serves a second
};

// The worker for a request (../shared/protocol.md §13.3): the one with the least estimated queue
// time, load / perf, that is within max_queue_time before the request, as the worker's own
// admission rule counts it (so the worker does not refuse it with 429). `ahead` are the costs of
// requests that waited longer: each is placed first, so that a newer request never takes the
// capacity an older one waits for. Empty when none can take it.
std::optional<int64_t> pick_worker(std::vector<Candidate> candidates, const std::vector<double>& ahead,
                                   double max_queue_time);

// The requests of one endpoint waiting for a worker, in the order they first asked. A request
// keeps its place while its client polls within its replay_timeout.
class RouteQueue {
public:
    struct Entry {
        int64_t request_idx;
        double cost;
        double first_seen;
        double last_seen;
        double replay_timeout;
    };

    // A /route/ call for `request_idx` at `now` that found no worker: it joins the queue, or
    // keeps its place and is seen again.
    void wait(int64_t request_idx, double cost, double replay_timeout, double now);
    // Costs of the requests that have waited longer than `request_idx` (all of them when it is
    // not queued).
    std::vector<double> costs_ahead(int64_t request_idx) const;
    void remove(int64_t request_idx);
    // Drops the requests whose client stopped asking; returns how many.
    std::size_t expire(double now);

    double total_cost() const;
    std::size_t size() const { return entries_.size(); }
    const std::vector<Entry>& entries() const { return entries_; }

private:
    std::vector<Entry> entries_;  // oldest first
};

}  // namespace cppworker::engine
