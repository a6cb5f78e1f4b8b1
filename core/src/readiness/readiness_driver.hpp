#pragma once

#include "server/server_state.hpp"

#include <boost/asio/awaitable.hpp>

namespace cppworker::readiness {

// Brings the backend to "loaded" the way PyWorker does (core/protocol.md §8): from the model log's
// load line when the plugin gives patterns and MODEL_LOG is set, else from the plugin's `ready`
// hook; then the benchmark, the first healthy probe, the public key; then loadtime and max_perf.
// Keeps watching the log for error lines and probing health afterwards. Runs until the worker
// stops; give it a strand of its own.
boost::asio::awaitable<void> drive_readiness(server::ServerState& s);

}  // namespace cppworker::readiness
