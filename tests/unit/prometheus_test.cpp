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
