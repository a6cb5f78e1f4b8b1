#include "http/listener.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <spdlog/spdlog.h>

#include <stdexcept>

#include <sys/socket.h>
#include <unistd.h>

namespace cppworker::http {
namespace asio = boost::asio;
using asio::ip::tcp;

Listener::Listener(asio::io_context::executor_type control, async::EventLoops& loops, ConnectionParts& parts,
                   asio::ssl::context* tls)
    : acceptor_(control), loops_(loops), parts_(parts), tls_(tls) {}

uint16_t Listener::listen(const std::string& address, uint16_t port) {
    const tcp::endpoint endpoint(asio::ip::make_address(address), port);
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen(asio::socket_base::max_listen_connections);
    return acceptor_.local_endpoint().port();
}

uint16_t Listener::adopt(int listening_fd) {
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    if (::getsockname(listening_fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        throw std::runtime_error("the listening socket handed down by the supervisor is not a socket");
    }
    acceptor_.assign(address.ss_family == AF_INET6 ? tcp::v6() : tcp::v4(), listening_fd);
    return acceptor_.local_endpoint().port();
}

void Listener::start() { accept_next(); }

void Listener::accept_next() {
    acceptor_.async_accept(loops_.at(loops_.next_index()), [this](boost::system::error_code ec, tcp::socket socket) {
        if (ec) {
            if (!stopped_) spdlog::error("accept failed: {}", ec.message());
            if (stopped_ || ec == asio::error::operation_aborted) return;
        } else {
            socket.set_option(tcp::no_delay(true), ec);
            const auto executor = socket.get_executor();
            asio::co_spawn(executor, serve_connection(parts_, std::move(socket), parts_.tracker.accepted(), tls_),
                           asio::detached);
        }
        accept_next();
    });
}

void Listener::stop() {
    stopped_ = true;
    boost::system::error_code ec;
    // Released from the event loop, then closed: a listening socket shared with other processes
    // stays open after our close, and epoll would go on reporting its new connections here unless
    // the registration is removed first, which close() leaves to the kernel.
    const auto fd = acceptor_.release(ec);
    if (ec) {
        acceptor_.close(ec);
    } else {
        ::close(fd);
    }
}

}  // namespace cppworker::http
