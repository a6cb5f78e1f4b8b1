#pragma once

#include <algorithm>

namespace cppworker::accounting {

// PyWorker's admission rule (core/protocol.md §9): the seconds a new request would wait, estimated as the queued
// workload over the benchmarked throughput, may not exceed the route's max_queue_time (< 0: no
// limit). Before a benchmark max_perf is 0 and the divisor 1e-5, so any queued work refuses.
inline bool over_queue_limit(double queued_workload, double max_perf, double max_queue_time) {
    if (max_queue_time < 0) return false;
    return queued_workload / std::max(max_perf, 1e-5) > max_queue_time;
}

}  // namespace cppworker::accounting
