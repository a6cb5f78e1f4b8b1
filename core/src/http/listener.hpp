#pragma once

#include "async/event_loops.hpp"
#include "http/connection.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include <cstdint>
#include <string>

namespace cppworker::http {

// The listening socket: accepts on the control loop and serves each connection on the event loops
// in turn.
class Listener {
public:
    // `tls`, when given, outlives the listener and its connections.
    Listener(boost::asio::io_context::executor_type control, async::EventLoops& loops, ConnectionParts& parts,
             boost::asio::ssl::context* tls);

    // Binds; returns the port (the chosen one when `port` is 0).
    uint16_t listen(const std::string& address, uint16_t port);
    // Instead of listen(): serves on a socket the supervisor bound and handed down; returns its port.
    uint16_t adopt(int listening_fd);

    // Accepts until stop().
    void start();
    // Stops accepting. A socket shared with other processes (core/src/supervisor) stays open for
    // them.
    void stop();

private:
    void accept_next();

    boost::asio::ip::tcp::acceptor acceptor_;
    async::EventLoops& loops_;
    ConnectionParts& parts_;
    boost::asio::ssl::context* tls_;
    bool stopped_ = false;  // on the control loop only
};

}  // namespace cppworker::http
