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

std::string format_plugin_metrics(const std::vector<plugin::MetricSample>& samples) {
    std::string out;
    std::set<std::string> seen;
    for (const auto& s : samples) {
        if (!seen.insert(s.name).second) continue;
        const auto name = "cppworker_plugin_" + s.name;
        if (!s.help.empty()) out += fmt::format("# HELP {} {}\n", name, escape_help(s.help));
        out += fmt::format("# TYPE {} {}\n", name, s.type == CPPW_METRIC_COUNTER ? "counter" : "gauge");
        out += fmt::format("{} {}\n", name, s.value);
    }
    return out;
}

std::string format_worker_metrics(const accounting::LedgerTotals& t, const accounting::LedgerSnapshot& now,
                                  const WorkerGauges& g) {
    std::string out;
    out += "# HELP cppworker_requests_total Requests by how they ended (rejected: 401 or 429 before starting).\n"
           "# TYPE cppworker_requests_total counter\n";
    out += fmt::format("cppworker_requests_total{{outcome=\"success\"}} {}\n", t.succeeded);
    out += fmt::format("cppworker_requests_total{{outcome=\"error\"}} {}\n", t.errored);
    out += fmt::format("cppworker_requests_total{{outcome=\"cancelled\"}} {}\n", t.cancelled);
    out += fmt::format("cppworker_requests_total{{outcome=\"rejected\"}} {}\n", t.rejected);
    out += "# HELP cppworker_workload_total Workload units by what became of them.\n"
           "# TYPE cppworker_workload_total counter\n";
    out += fmt::format("cppworker_workload_total{{outcome=\"received\"}} {}\n", t.workload_received);
    out += fmt::format("cppworker_workload_total{{outcome=\"served\"}} {}\n", t.workload_served);
    out += fmt::format("cppworker_workload_total{{outcome=\"errored\"}} {}\n", t.workload_errored);
    out += fmt::format("cppworker_workload_total{{outcome=\"cancelled\"}} {}\n", t.workload_cancelled);
    out += fmt::format("cppworker_workload_total{{outcome=\"rejected\"}} {}\n", t.workload_rejected);
    out += fmt::format("# HELP cppworker_requests_working Requests and sessions in flight (num_requests_working).\n"
                       "# TYPE cppworker_requests_working gauge\ncppworker_requests_working {}\n",
                       now.num_working);
    out += fmt::format("# HELP cppworker_load Workload in flight (cur_load).\n"
                       "# TYPE cppworker_load gauge\ncppworker_load {}\n",
                       now.in_flight);
    out += fmt::format("# HELP cppworker_queued_requests Requests waiting for a FIFO or limited route.\n"
                       "# TYPE cppworker_queued_requests gauge\ncppworker_queued_requests {}\n",
                       g.queued_requests);
    out += fmt::format("# HELP cppworker_sessions_open Open sessions.\n"
                       "# TYPE cppworker_sessions_open gauge\ncppworker_sessions_open {}\n",
                       g.open_sessions);
    out += fmt::format("# HELP cppworker_max_perf Benchmarked throughput, workload units per second.\n"
                       "# TYPE cppworker_max_perf gauge\ncppworker_max_perf {}\n",
                       g.max_perf);
    return out;
}

std::string format_upstream_metrics(const upstream::ForwarderStats& s) {
    return fmt::format(
        "# HELP cppworker_upstream_requests_total Requests forwarded to the model server.\n"
        "# TYPE cppworker_upstream_requests_total counter\n"
        "cppworker_upstream_requests_total {}\n"
        "# HELP cppworker_upstream_failures_total Forwards that found the model server unreachable, silent or "
        "malformed.\n"
        "# TYPE cppworker_upstream_failures_total counter\n"
        "cppworker_upstream_failures_total {}\n"
        "# HELP cppworker_upstream_connections_opened_total Connections opened to the model server.\n"
        "# TYPE cppworker_upstream_connections_opened_total counter\n"
        "cppworker_upstream_connections_opened_total {}\n"
        "# HELP cppworker_upstream_idle_connections Kept-alive connections to the model server waiting for reuse.\n"
        "# TYPE cppworker_upstream_idle_connections gauge\n"
        "cppworker_upstream_idle_connections {}\n",
        s.requests, s.failures, s.connections_opened, s.idle_connections);
}

}  // namespace cppworker::metrics
