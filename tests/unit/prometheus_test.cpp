#include "accounting/request_ledger.hpp"
#include "metrics/prometheus.hpp"

#include <catch2/catch.hpp>

using cppworker::metrics::format_plugin_metrics;
using cppworker::metrics::PluginSample;

TEST_CASE("plugin metrics print as Prometheus text", "[unit][metrics]") {
    const std::vector<PluginSample> samples = {
        {PluginSample::Type::counter, "tokens_total", "tokens made\nso far", 12},
        {PluginSample::Type::gauge, "queue_depth", "", 2.5},
        {PluginSample::Type::gauge, "tokens_total", "a repeat", 99},
    };
    CHECK(format_plugin_metrics(samples) ==
          "# HELP cppworker_plugin_tokens_total tokens made\\nso far\n"
          "# TYPE cppworker_plugin_tokens_total counter\n"
          "cppworker_plugin_tokens_total 12\n"
          "# TYPE cppworker_plugin_queue_depth gauge\n"
          "cppworker_plugin_queue_depth 2.5\n");
    CHECK(format_plugin_metrics({}).empty());
}

TEST_CASE("estimated queue seconds: queued workload over max_perf and 0 before a benchmark", "[unit][metrics]") {
    using cppworker::metrics::estimated_queue_seconds;
    CHECK(estimated_queue_seconds(300, 200) == 1.5);
    CHECK(estimated_queue_seconds(0, 200) == 0);
    // Without a benchmark there is no rate to divide by; the admission rule's 1e-5 would give 3e7.
    CHECK(estimated_queue_seconds(300, 0) == 0);
}

TEST_CASE("/metrics text carries the queue estimate of the ledger's queued workload without sessions",
          "[unit][metrics]") {
    using namespace cppworker::accounting;
    RequestLedger ledger(0);
    ledger.start(RequestIdentity{1, 10}, 250, true);
    ledger.start(std::nullopt, 50, true);
    ledger.open_session(RequestIdentity{2, 20}, 1000);
    cppworker::metrics::WorkerGauges gauges;
    gauges.max_perf = 200;
    gauges.queued_workload = ledger.queued_workload();
    const auto text = cppworker::metrics::format_worker_metrics(ledger.totals(), ledger.snapshot(), gauges);
    CHECK_THAT(text, Catch::Contains("# TYPE cppworker_estimated_queue_seconds gauge\n"
                                     "cppworker_estimated_queue_seconds 1.5\n"));
    gauges.max_perf = 0;
    CHECK_THAT(cppworker::metrics::format_worker_metrics(ledger.totals(), ledger.snapshot(), gauges),
               Catch::Contains("\ncppworker_estimated_queue_seconds 0\n"));
}
