#pragma once

#include "server/server_state.hpp"

#include <boost/asio/awaitable.hpp>

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

// Plugin-made payloads through the plugin's request path: one warm-up, then runs x concurrency
// (core/protocol.md §8.3). Uses the cache when there is one. Sets an error and returns 0 when nothing
// succeeded; a plugin without a benchmark gets 0 and a warning (it is never sent work).
boost::asio::awaitable<double> run_benchmark(server::ServerState& s);

}  // namespace cppworker::readiness
