#pragma once

#include "accounting/request_ledger.hpp"
#include "metrics/figures.hpp"

#include <string>
#include <vector>

namespace cppworker::metrics {

// Prometheus text format 0.0.4 for the plugin's own figures, each name prefixed
// "cppworker_plugin_". Samples are printed in the order given; a repeated name keeps its first.
std::string format_plugin_metrics(const std::vector<PluginSample>& samples);

// The worker's own figures: requests and workload by outcome since start, and what is in flight,
// queued and open now.
struct WorkerGauges {
    std::size_t queued_requests = 0;
    std::size_t open_sessions = 0;
    double max_perf = 0;
    std::size_t registered_requests = 0;  // ids the plugin may still complete
    std::size_t open_connections = 0;
    uint64_t refused_connections = 0;     // over --max-connections, since start
};
std::string format_worker_metrics(const accounting::LedgerTotals& totals, const accounting::LedgerSnapshot& now,
                                  const WorkerGauges& gauges);

// The model-server client: forwards, their failures, and how many connections it opened (fewer
// than forwards when connections are kept alive).
std::string format_upstream_metrics(const UpstreamStats& stats);

}  // namespace cppworker::metrics
