#include "metrics/prometheus.hpp"

#include <fmt/format.h>

#include <set>

namespace cppworker::metrics {
namespace {

std::string escape_help(std::string_view s) {
    std::string out;
    for (char c : s) {
        if (c == '\\') out += "\\\\";
        else if (c == '\n') out += "\\n";
        else out += c;
    }
    return out;
}

}  // namespace

std::string format_plugin_metrics(const std::vector<PluginSample>& samples) {
    std::string out;
    std::set<std::string> seen;
    for (const auto& s : samples) {
        if (!seen.insert(s.name).second) continue;
        const auto name = "cppworker_plugin_" + s.name;
        if (!s.help.empty()) out += fmt::format("# HELP {} {}\n", name, escape_help(s.help));
        out += fmt::format("# TYPE {} {}\n", name, s.type == PluginSample::Type::counter ? "counter" : "gauge");
        out += fmt::format("{} {}\n", name, s.value);
    }
    return out;
}

namespace {

// One unlabelled sample with its HELP and TYPE lines.
template <class Value>
void sample(std::string& out, std::string_view type, std::string_view name, std::string_view help, Value value) {
    out += fmt::format("# HELP {0} {1}\n# TYPE {0} {2}\n{0} {3}\n", name, help, type, value);
}

}  // namespace

double estimated_queue_seconds(double queued_workload, double max_perf) {
    return max_perf > 0 ? queued_workload / max_perf : 0;
}

std::string format_worker_metrics(const accounting::LedgerTotals& t, const accounting::LedgerSnapshot& now,
                                  const WorkerGauges& g) {
    std::string out;
    out += "# HELP cppworker_requests_total Requests by how they ended (rejected: 401 or 429 before starting, as "
           "reported to the autoscaler; invalid: 422 or 410 before admission, reported to nobody).\n"
           "# TYPE cppworker_requests_total counter\n";
    out += fmt::format("cppworker_requests_total{{outcome=\"success\"}} {}\n", t.succeeded);
    out += fmt::format("cppworker_requests_total{{outcome=\"error\"}} {}\n", t.errored);
    out += fmt::format("cppworker_requests_total{{outcome=\"cancelled\"}} {}\n", t.cancelled);
    out += fmt::format("cppworker_requests_total{{outcome=\"rejected\"}} {}\n", t.rejected);
    out += fmt::format("cppworker_requests_total{{outcome=\"invalid\"}} {}\n", t.invalid);
    out += "# HELP cppworker_workload_total Workload units by what became of them.\n"
           "# TYPE cppworker_workload_total counter\n";
    out += fmt::format("cppworker_workload_total{{outcome=\"received\"}} {}\n", t.workload_received);
    out += fmt::format("cppworker_workload_total{{outcome=\"served\"}} {}\n", t.workload_served);
    out += fmt::format("cppworker_workload_total{{outcome=\"errored\"}} {}\n", t.workload_errored);
    out += fmt::format("cppworker_workload_total{{outcome=\"cancelled\"}} {}\n", t.workload_cancelled);
    out += fmt::format("cppworker_workload_total{{outcome=\"rejected\"}} {}\n", t.workload_rejected);
    sample(out, "gauge", "cppworker_requests_working", "Requests and sessions in flight (num_requests_working).",
           now.num_working);
    sample(out, "gauge", "cppworker_load", "Workload in flight (cur_load).", now.in_flight);
    sample(out, "gauge", "cppworker_queued_requests", "Requests waiting for a FIFO or limited route.",
           g.queued_requests);
    sample(out, "gauge", "cppworker_sessions_open", "Open sessions.", g.open_sessions);
    sample(out, "gauge", "cppworker_max_perf", "Benchmarked throughput, workload units per second.", g.max_perf);
    sample(out, "gauge", "cppworker_estimated_queue_seconds",
           "Workload of the requests queued or running, sessions aside, over max_perf; 0 before the benchmark.",
           estimated_queue_seconds(g.queued_workload, g.max_perf));
    sample(out, "gauge", "cppworker_ledger_entries", "Requests and sessions the ledger holds as started.", t.working);
    sample(out, "gauge", "cppworker_registered_requests", "Request ids the plugin may still complete.",
           g.registered_requests);
    sample(out, "gauge", "cppworker_undelivered_ids", "Finished request ids waiting for /delete_requests/.",
           t.undelivered);
    sample(out, "counter", "cppworker_undelivered_dropped_total",
           "Finished request ids dropped undelivered, past --max-undelivered.", t.undelivered_dropped);
    sample(out, "gauge", "cppworker_connections_open", "Open client connections.", g.open_connections);
    sample(out, "counter", "cppworker_connections_refused_total",
           "Client connections answered 503 and closed, past --max-connections.", g.refused_connections);
    sample(out, "gauge", "cppworker_timers_pending", "The plugin's timers (timer_start) waiting to call back.",
           g.pending_timers);
    return out;
}

std::string format_upstream_metrics(const UpstreamStats& s) {
    std::string out;
    sample(out, "counter", "cppworker_upstream_requests_total", "Requests forwarded to the model server.", s.requests);
    sample(out, "counter", "cppworker_upstream_failures_total",
           "Forwards that found the model server unreachable, silent or malformed.", s.failures);
    sample(out, "counter", "cppworker_upstream_connections_opened_total", "Connections opened to the model server.",
           s.connections_opened);
    sample(out, "gauge", "cppworker_upstream_idle_connections",
           "Kept-alive connections to the model server waiting for reuse.", s.idle_connections);
    return out;
}

}  // namespace cppworker::metrics
