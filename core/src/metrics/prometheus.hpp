#pragma once

#include "accounting/request_ledger.hpp"
#include "metrics/figures.hpp"

#include <string>
#include <vector>

namespace cppworker::metrics {

// Prometheus text format 0.0.4 for the plugin's own figures, each name prefixed
// "cppworker_plugin_". Samples are printed in the order given; a repeated name keeps its first.
std::string format_plugin_metrics(const std::vector<PluginSample>& samples);

// Seconds this worker needs for the work it holds, at its benchmarked rate: the same estimate the
// 429 rule (accounting/admission.hpp) compares with max_queue_time, so a scaler that keeps it near a
// target keeps requests clear of 429s. 0 until there is a benchmark, where the admission rule's
// 1e-5 divisor would turn any queued work into an absurd figure that would scale a loading
// deployment to its maximum.
double estimated_queue_seconds(double queued_workload, double max_perf);

// The worker's own figures: requests and workload by outcome since start, and what is in flight,
// queued and open now.
struct WorkerGauges {
    std::size_t queued_requests = 0;
    std::size_t open_sessions = 0;
    double max_perf = 0;
    double queued_workload = 0;           // RequestLedger::queued_workload(): working requests, not sessions
    std::size_t registered_requests = 0;  // ids the plugin may still complete
    std::size_t open_connections = 0;
    uint64_t refused_connections = 0;     // over --max-connections, since start
    std::size_t pending_timers = 0;       // the plugin's timers (timer_start) waiting to call back
};
std::string format_worker_metrics(const accounting::LedgerTotals& totals, const accounting::LedgerSnapshot& now,
                                  const WorkerGauges& gauges);

// The model-server client: forwards, their failures, and how many connections it opened (fewer
// than forwards when connections are kept alive).
std::string format_upstream_metrics(const UpstreamStats& stats);

}  // namespace cppworker::metrics
