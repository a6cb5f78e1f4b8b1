#pragma once

#include "server/server_state.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace cppworker::server {

// One client connection: reads requests (keep-alive), answers each, until the client or the
// server closes it. Runs on its own strand.
boost::asio::awaitable<void> serve_connection(ServerState& server, boost::asio::ip::tcp::socket socket);

}  // namespace cppworker::server
