#include "http1/client.hpp"

#include "http1/resolve.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <openssl/ssl.h>

namespace cppworker::http1 {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::use_awaitable;

asio::ssl::context& tls_context() {
    static asio::ssl::context ctx = [] {
        asio::ssl::context c(asio::ssl::context::tls_client);
        c.set_default_verify_paths();
        c.set_verify_mode(asio::ssl::verify_peer);
        return c;
    }();
    return ctx;
}

template <class Stream>
asio::awaitable<HttpResult> exchange(Stream& stream, http::verb method, const Url& url, std::string body,
                                     const std::string& content_type) {
    http::request<http::string_body> req{method, url.target, 11};
    req.set(http::field::host, url.host);
    req.set(http::field::user_agent, "cppworker");
    if (!content_type.empty()) req.set(http::field::content_type, content_type);
    req.body() = std::move(body);
    req.prepare_payload();
    co_await http::async_write(stream, req, use_awaitable);

    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    co_await http::async_read(stream, buffer, parser, use_awaitable);
    co_return HttpResult{parser.get().result_int(), std::move(parser.get().body())};
}

}  // namespace

asio::awaitable<HttpResult> http_call(http::verb method, Url url, std::string body, std::string content_type,
                                      std::chrono::milliseconds timeout) {
    const auto executor = co_await asio::this_coro::executor;
    // The name lookup counts against the deadline too.
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    const auto resolved = co_await resolve_within(executor, url.host, url.port, timeout);
    if (!resolved) throw boost::system::system_error(asio::error::timed_out, "looking up " + url.host);
    if (resolved->error) throw boost::system::system_error(resolved->error, "looking up " + url.host);
    const auto endpoints = resolved->endpoints;
    beast::tcp_stream tcp(executor);
    tcp.expires_at(deadline);
    co_await tcp.async_connect(endpoints, use_awaitable);

    if (url.scheme == "http") {
        auto result = co_await exchange(tcp, method, url, std::move(body), content_type);
        boost::system::error_code ec;
        tcp.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
        co_return result;
    }
    beast::ssl_stream<beast::tcp_stream> tls(std::move(tcp), tls_context());
    if (!SSL_set_tlsext_host_name(tls.native_handle(), url.host.c_str())) {
        throw boost::system::system_error(static_cast<int>(::ERR_get_error()), asio::error::get_ssl_category());
    }
    tls.set_verify_callback(asio::ssl::host_name_verification(url.host));
    co_await tls.async_handshake(asio::ssl::stream_base::client, use_awaitable);
    co_return co_await exchange(tls, method, url, std::move(body), content_type);
}

}  // namespace cppworker::http1
