#pragma once

#include "endpoints/builtin.hpp"
#include "http/connection_tracker.hpp"
#include "pipeline/pipeline.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include <chrono>
#include <cstddef>

namespace cppworker::http {

struct ConnectionSettings {
    std::size_t max_body_bytes;
    std::size_t max_header_bytes;
    std::chrono::milliseconds read_timeout;  // also for each write, and an idle keep-alive connection
};

// What every connection hands its requests to, and what counts it.
struct ConnectionParts {
    ConnectionSettings settings;
    ConnectionTracker& tracker;
    endpoints::BuiltinEndpoints& builtins;
    pipeline::Pipeline& pipeline;
};

// One client connection: reads requests (keep-alive), answers each (the worker's own routes, or
// the plugin's through the pipeline), until the client or the drain closes it. Runs on the event
// loop its socket belongs to. With `tls`, a TLS handshake bounded by the read timeout comes first.
boost::asio::awaitable<void> serve_connection(ConnectionParts& parts, boost::asio::ip::tcp::socket socket,
                                              ConnectionTracker::Ticket ticket, boost::asio::ssl::context* tls);

}  // namespace cppworker::http
