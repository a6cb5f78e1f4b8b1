#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/strand.hpp>

#include <filesystem>

namespace cppworker::server {

// USE_SSL: TLS ends here, and each connection's bytes are relayed to the plain HTTP listener on
// loopback. The HTTP code thus has one kind of stream, and a client that leaves still closes the
// connection the request is watched on.
class TlsFront {
public:
    // Throws std::runtime_error naming the file when the certificate or key cannot be used.
    TlsFront(boost::asio::io_context& io, const std::filesystem::path& cert, const std::filesystem::path& key);

    // Binds the public endpoint; returns its port.
    uint16_t listen(const boost::asio::ip::tcp::endpoint& public_endpoint);
    // Accepts until stop(), relaying to `backend`.
    void start(boost::asio::ip::tcp::endpoint backend);
    void stop();

private:
    void accept_next();

    boost::asio::io_context& io_;
    boost::asio::ssl::context context_;
    boost::asio::strand<boost::asio::io_context::executor_type> strand_;
    boost::asio::ip::tcp::acceptor acceptor_;
    boost::asio::ip::tcp::endpoint backend_;
};

}  // namespace cppworker::server
