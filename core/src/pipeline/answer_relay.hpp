#pragma once

#include "pipeline/client_port.hpp"
#include "pipeline/request_scope.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstddef>
#include <string_view>

namespace cppworker::pipeline {

struct RelaySettings {
    std::chrono::milliseconds request_timeout;      // for the log: what `deadline` came from
    std::chrono::milliseconds stream_idle_timeout;  // between the writes of the plugin's own stream
    std::size_t stream_high_water;                  // for the log of a stream cut for flooding
};

// Sends what the plugin produces for a request it was handed, until it completed it, the client
// left, or a deadline passed: `deadline` for the answer to begin, then stream_idle_timeout between
// the writes of the plugin's own stream (a relayed one has the forwarder's timeouts). `wake` is
// woken by the request's news (PendingRequest's notifier). The outcome goes to `scope` as soon as
// it is known, before the last write: a client that has its answer finds it counted, as PyWorker
// counts a response once its handler returns it. True when the answer went out whole and the
// connection is fit for another request.
boost::asio::awaitable<bool> relay_answer(ClientPort& client, RequestScope& scope, boost::asio::steady_timer& wake,
                                          std::chrono::steady_clock::time_point deadline, std::string_view path,
                                          const RelaySettings& settings);

}  // namespace cppworker::pipeline
