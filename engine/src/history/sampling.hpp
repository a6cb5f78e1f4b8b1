#pragma once

#include "fleet/fleet.hpp"
#include "history/history.hpp"

#include <optional>
#include <vector>

namespace cppworker::engine {

// The workers of a sample by what they are to the capacity: serving, loaded and stopped (cold),
// on their way (loading or loading their model), and the rest (stopping, errored, lost, stopped
// without a model).
struct WorkerCounts {
    int ready = 0;
    int cold = 0;
    int starting = 0;
    int other = 0;
};
WorkerCounts count_workers(const std::vector<WorkerSample>& workers);

// The wait a request routed now can expect, endpoint-wide: the load in flight at the ready workers
// (as routing counts it: reported, plus routed since) and the load waiting for a worker, over what
// the ready workers serve per second. The same quantity the policy holds under target_queue_time.
// None when no ready worker has a benchmark.
std::optional<double> estimated_queue_time(const std::vector<const Worker*>& workers, double waiting_load);

// What one endpoint looks like at `now`: its routes and served load over the last `window`
// seconds, its queue, its workers, and what the policy concluded for its groups this tick.
Sample sample_endpoint(const EndpointEntry& entry, const std::vector<const Worker*>& workers,
                       std::vector<GroupSample> groups, double window, double now);

}  // namespace cppworker::engine
