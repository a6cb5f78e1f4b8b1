#pragma once

#include "server/server_state.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

namespace cppworker::server {

// One client connection: reads requests (keep-alive), answers each, until the client or the
// server closes it. Runs on the event loop its socket belongs to.
boost::asio::awaitable<void> serve_connection(ServerState& server, boost::asio::ip::tcp::socket socket);
// The same over TLS (USE_SSL), after a handshake bounded by --read-timeout.
boost::asio::awaitable<void> serve_tls_connection(ServerState& server, boost::asio::ip::tcp::socket socket,
                                                  boost::asio::ssl::context& tls);

}  // namespace cppworker::server
