#pragma once

#include "plugin/loaded_plugin.hpp"
#include "readiness/readiness_state.hpp"

#include <boost/asio/awaitable.hpp>

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace cppworker::readiness {

// One run's figures: what succeeded (status 200) and how long the run took.
struct RunResult {
    double successful_workload = 0;
    double seconds = 0;
};

// max_perf from a benchmark's runs as PyWorker computes it: the best run's successful workload per
// second. Empty when no run had a success.
std::optional<double> best_throughput(const std::vector<RunResult>& runs);

// The cached result of an earlier benchmark (first line, a Python float), if the file holds one.
std::optional<double> read_benchmark_cache(const std::filesystem::path& file);
void write_benchmark_cache(const std::filesystem::path& file, double max_perf);

// A request the worker makes itself, through the plugin's request path (pipeline/pipeline.hpp):
// the status of its answer (0 when it did not come whole) and its workload.
struct InternalOutcome {
    unsigned status = 0;
    double workload = 0;
};
using InternalRequests = std::function<boost::asio::awaitable<InternalOutcome>(uint32_t route_index, std::string payload)>;

// Plugin-made payloads through the plugin's request path: one warm-up, then runs x concurrency
// (core/protocol.md §8.3). Uses `cache` when it holds a result. Sets an error in `state` and
// returns 0 when nothing succeeded; a plugin without a benchmark gets 0 and a warning (it is never
// sent work).
boost::asio::awaitable<double> run_benchmark(plugin::LoadedPlugin& plugin, const InternalRequests& send,
                                             const std::filesystem::path& cache, ReadinessState& state);

}  // namespace cppworker::readiness
