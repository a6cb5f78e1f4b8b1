#pragma once

#include "plugin/loaded_plugin.hpp"
#include "readiness/benchmark.hpp"
#include "readiness/readiness_state.hpp"

#include <boost/asio/awaitable.hpp>

#include <filesystem>
#include <functional>
#include <optional>
#include <string>

namespace cppworker::readiness {

// What bringing the backend to "loaded" takes.
struct ReadinessParts {
    plugin::LoadedPlugin& plugin;
    ReadinessState& state;
    InternalRequests send;  // the benchmark's requests
    // Whether the signature key is in; empty when signatures are not checked.
    std::function<bool()> has_key;
};

struct ReadinessSettings {
    std::string model_log;                      // MODEL_LOG; empty: none
    std::filesystem::path benchmark_cache;
    std::string model_server_url;               // the health probe's base
    std::optional<std::string> health_path;     // MODEL_HEALTH_ENDPOINT; empty: the plugin's
};

// Brings the backend to "loaded" the way PyWorker does (core/protocol.md §8): from the model log's
// load line when the plugin gives patterns and MODEL_LOG is set, else from the plugin's `ready`
// hook; then the benchmark, the first healthy probe, the public key; then loadtime and max_perf.
// Keeps watching the log for error lines and probing health afterwards. Runs until the worker
// stops, on one event loop.
boost::asio::awaitable<void> drive_readiness(ReadinessParts parts, ReadinessSettings settings);

}  // namespace cppworker::readiness
