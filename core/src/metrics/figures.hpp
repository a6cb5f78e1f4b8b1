#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

// Figures that other parts of the worker collect and /metrics prints (metrics/prometheus.hpp).
namespace cppworker::metrics {

// One figure a plugin reports through its metrics hook.
struct PluginSample {
    enum class Type { counter, gauge };
    Type type;
    std::string name;
    std::string help;
    double value;
};

// The model-server client's figures since start.
struct UpstreamStats {
    uint64_t requests = 0;
    uint64_t failures = 0;            // unreachable, timed out or malformed; not cancellations
    uint64_t connections_opened = 0;
    std::size_t idle_connections = 0;
};

}  // namespace cppworker::metrics
