#pragma once

#include "plugin/host.hpp"

#include <string>
#include <vector>

namespace cppworker::metrics {

// Prometheus text format 0.0.4 for the plugin's own figures, each name prefixed
// "cppworker_plugin_". Samples are printed in the order given; a repeated name keeps its first.
std::string format_plugin_metrics(const std::vector<plugin::MetricSample>& samples);

}  // namespace cppworker::metrics
