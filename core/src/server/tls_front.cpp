#include "server/tls_front.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <spdlog/spdlog.h>

#include <array>

namespace cppworker::server {
namespace asio = boost::asio;
using asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;
constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

namespace {

// Copies from `from` to `to` until either side fails or closes.
template <class From, class To>
asio::awaitable<void> pump(From& from, To& to) {
    std::array<char, 16 * 1024> buffer;
    for (;;) {
        auto [read_ec, n] = co_await from.async_read_some(asio::buffer(buffer), tuple_awaitable);
        if (read_ec) co_return;
        auto [write_ec, written] = co_await asio::async_write(to, asio::buffer(buffer.data(), n), tuple_awaitable);
        if (write_ec) co_return;
    }
}

asio::awaitable<void> relay(asio::ssl::stream<tcp::socket> tls, tcp::endpoint backend) {
    const auto executor = co_await asio::this_coro::executor;
    asio::steady_timer handshake_deadline(executor, std::chrono::seconds(30));
    auto shaken = co_await (tls.async_handshake(asio::ssl::stream_base::server, tuple_awaitable) ||
                            handshake_deadline.async_wait(tuple_awaitable));
    if (shaken.index() != 0 || std::get<0>(std::get<0>(shaken))) {
        spdlog::debug("TLS handshake failed or timed out");
        co_return;
    }
    tcp::socket plain(executor);
    auto [ec] = co_await plain.async_connect(backend, tuple_awaitable);
    if (ec) {
        spdlog::error("TLS front: cannot reach the worker's own listener: {}", ec.message());
        co_return;
    }
    // Whichever side ends first ends both.
    co_await (pump(tls, plain) || pump(plain, tls));
    boost::system::error_code ignored;
    plain.shutdown(tcp::socket::shutdown_both, ignored);
    tls.lowest_layer().shutdown(tcp::socket::shutdown_both, ignored);
}

}  // namespace

TlsFront::TlsFront(asio::io_context& io, const std::filesystem::path& cert, const std::filesystem::path& key)
    : io_(io), context_(asio::ssl::context::tls_server), strand_(asio::make_strand(io)), acceptor_(strand_) {
    boost::system::error_code ec;
    context_.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                         asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
    context_.use_certificate_chain_file(cert.string(), ec);
    if (ec) throw std::runtime_error("USE_SSL: cannot use the certificate " + cert.string() + ": " + ec.message());
    context_.use_private_key_file(key.string(), asio::ssl::context::pem, ec);
    if (ec) throw std::runtime_error("USE_SSL: cannot use the private key " + key.string() + ": " + ec.message());
}

uint16_t TlsFront::listen(const tcp::endpoint& public_endpoint) {
    acceptor_.open(public_endpoint.protocol());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(public_endpoint);
    acceptor_.listen(asio::socket_base::max_listen_connections);
    return acceptor_.local_endpoint().port();
}

void TlsFront::start(tcp::endpoint backend) {
    backend_ = backend;
    accept_next();
}

void TlsFront::stop() {
    asio::post(strand_, [this] {
        boost::system::error_code ec;
        acceptor_.close(ec);
    });
}

void TlsFront::accept_next() {
    acceptor_.async_accept(asio::make_strand(io_), [this](boost::system::error_code ec, tcp::socket socket) {
        if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
        if (!ec) {
            socket.set_option(tcp::no_delay(true), ec);
            const auto executor = socket.get_executor();
            asio::co_spawn(executor, relay(asio::ssl::stream<tcp::socket>(std::move(socket), context_), backend_),
                           asio::detached);
        }
        accept_next();
    });
}

}  // namespace cppworker::server
