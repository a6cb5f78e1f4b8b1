#include "api/http_server.hpp"

#include "http1/answer_head.hpp"
#include "logging/error_text.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <spdlog/spdlog.h>

#include <array>
#include <list>

namespace cppworker::engine {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::string decode(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '+') {
            out += ' ';
        } else if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
            out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

}  // namespace

std::map<std::string, std::string> parse_query(std::string_view query) {
    std::map<std::string, std::string> out;
    while (!query.empty()) {
        const auto amp = query.find('&');
        const auto pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
        if (pair.empty()) continue;
        const auto eq = pair.find('=');
        out[decode(pair.substr(0, eq))] = eq == std::string_view::npos ? "" : decode(pair.substr(eq + 1));
    }
    return out;
}

struct HttpServer::State {
    State(asio::io_context& io, ApiHandler h, HttpServerLimits l) : acceptor(io), handler(std::move(h)), limits(l) {}

    tcp::acceptor acceptor;
    ApiHandler handler;
    HttpServerLimits limits;
    bool stopping = false;
    // Open connections, for stop(): an idle one is closed, a busy one after its answer.
    std::list<std::weak_ptr<beast::tcp_stream>> connections;
};

namespace {

ApiRequest to_api_request(const http::request<http::string_body>& req) {
    const std::string_view target = req.target();
    const auto q = target.find('?');
    ApiRequest r;
    r.method = std::string(req.method_string());
    r.path = std::string(target.substr(0, q));
    if (q != std::string_view::npos) r.query = parse_query(target.substr(q + 1));
    r.authorization = std::string(req[http::field::authorization]);
    r.body = req.body();
    return r;
}

asio::awaitable<bool> write_reply(beast::tcp_stream& stream, unsigned version, http1::Reply& reply, bool keep_alive,
                                  std::chrono::milliseconds timeout) {
    if (http1::bodiless(reply.status)) reply.body.clear();
    std::string head;
    http1::answer_head(head, version, reply.status, reply.content_type, reply.headers, http1::Framing::length,
                       reply.body.size(), keep_alive);
    const std::array<asio::const_buffer, 2> bytes{asio::buffer(head), asio::buffer(reply.body)};
    stream.expires_after(timeout);
    auto [ec, n] = co_await asio::async_write(stream, bytes, tuple_awaitable);
    co_return !ec;
}

// A request that could not be read gets its status, when its client is still there to read it.
std::optional<http1::Reply> read_failure(const boost::system::error_code& ec, std::size_t max_body) {
    if (ec == http::error::body_limit) {
        return http1::error_reply(413, "request body over " + std::to_string(max_body) + " bytes");
    }
    if (ec == http::error::end_of_stream || ec == asio::error::connection_reset ||
        ec == asio::error::operation_aborted || ec == beast::error::timeout) {
        return std::nullopt;
    }
    return http1::error_reply(400, "malformed request: " + ec.message());
}

asio::awaitable<void> serve(std::shared_ptr<HttpServer::State> state, std::shared_ptr<beast::tcp_stream> stream) {
    const auto handle = state->connections.insert(state->connections.end(), stream);
    beast::flat_buffer buffer;
    try {
        for (;;) {
            http::request_parser<http::string_body> parser;
            parser.body_limit(state->limits.max_body_bytes);
            stream->expires_after(state->limits.read_timeout);
            auto [ec, n] = co_await http::async_read(*stream, buffer, parser, tuple_awaitable);
            if (ec) {
                if (auto reply = read_failure(ec, state->limits.max_body_bytes)) {
                    co_await write_reply(*stream, 11, *reply, false, state->limits.read_timeout);
                }
                break;
            }
            const auto& req = parser.get();
            const bool keep_alive = req.keep_alive() && !state->stopping;
            auto reply = state->handler(to_api_request(req));
            if (!co_await write_reply(*stream, req.version(), reply, keep_alive, state->limits.read_timeout) ||
                !keep_alive) {
                break;
            }
        }
    } catch (const std::exception& e) {
        spdlog::error("api connection: {}", logging::error_text(e));
    }
    boost::system::error_code ignored;
    stream->socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream->close();
    state->connections.erase(handle);
}

void accept_next(const std::shared_ptr<HttpServer::State>& state) {
    state->acceptor.async_accept([state](boost::system::error_code ec, tcp::socket socket) {
        if (state->stopping) return;
        if (ec) {
            spdlog::error("api: accept failed: {}", ec.message());
        } else {
            socket.set_option(tcp::no_delay(true), ec);
            auto stream = std::make_shared<beast::tcp_stream>(std::move(socket));
            asio::co_spawn(state->acceptor.get_executor(), serve(state, std::move(stream)), asio::detached);
        }
        accept_next(state);
    });
}

}  // namespace

HttpServer::HttpServer(asio::io_context& io, ApiHandler handler, HttpServerLimits limits)
    : state_(std::make_shared<State>(io, std::move(handler), limits)) {}

HttpServer::~HttpServer() { stop(); }

uint16_t HttpServer::listen(const std::string& address, uint16_t port) {
    const tcp::endpoint endpoint(asio::ip::make_address(address), port);
    state_->acceptor.open(endpoint.protocol());
    state_->acceptor.set_option(tcp::acceptor::reuse_address(true));
    state_->acceptor.bind(endpoint);
    state_->acceptor.listen(asio::socket_base::max_listen_connections);
    accept_next(state_);
    return state_->acceptor.local_endpoint().port();
}

void HttpServer::stop() {
    if (state_->stopping) return;
    state_->stopping = true;
    boost::system::error_code ignored;
    state_->acceptor.close(ignored);
    // A connection waiting for its next request stops waiting; one that is being answered is not
    // (its handler runs to completion on this loop before anything else).
    for (auto& weak : state_->connections) {
        if (auto stream = weak.lock()) stream->cancel();
    }
}

}  // namespace cppworker::engine
