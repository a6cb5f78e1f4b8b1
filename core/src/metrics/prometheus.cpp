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

}  // namespace cppworker::metrics
