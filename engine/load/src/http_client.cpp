#include "http_client.hpp"

#include "common/sse.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <charconv>

namespace cppworker::load {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::awaitable;
using asio::use_awaitable;

std::optional<Url> parse_url(std::string_view text) {
    constexpr std::string_view scheme = "http://";
    if (!text.starts_with(scheme)) return std::nullopt;
    text.remove_prefix(scheme.size());
    const auto slash = text.find('/');
    const auto authority = text.substr(0, slash);
    std::string_view prefix = slash == std::string_view::npos ? std::string_view() : text.substr(slash);
    while (prefix.ends_with('/')) prefix.remove_suffix(1);
    const auto colon = authority.rfind(':');
    Url url;
    url.host = std::string(authority.substr(0, colon));
    url.port = colon == std::string_view::npos ? "80" : std::string(authority.substr(colon + 1));
    url.prefix = std::string(prefix);
    unsigned port = 0;
    const auto [end, ec] = std::from_chars(url.port.data(), url.port.data() + url.port.size(), port);
    if (url.host.empty() || ec != std::errc() || end != url.port.data() + url.port.size() || port == 0 || port > 65535) {
        return std::nullopt;
    }
    return url;
}

awaitable<beast::tcp_stream> HttpClient::connect(const Url& url, std::chrono::milliseconds timeout) {
    asio::ip::tcp::resolver resolver(executor_);
    beast::tcp_stream stream(executor_);
    stream.expires_after(timeout);
    auto [resolve_error, found] = co_await resolver.async_resolve(url.host, url.port, asio::as_tuple(use_awaitable));
    if (resolve_error) throw beast::system_error(resolve_error);
    auto [connect_error, _] = co_await stream.async_connect(found, asio::as_tuple(use_awaitable));
    if (connect_error) throw beast::system_error(connect_error);
    stream.socket().set_option(asio::ip::tcp::no_delay(true));
    co_return stream;
}

// One request and its answer on `stream`; false when the connection failed before any byte of
// an answer came (a kept-alive connection the server had closed meanwhile: worth one retry).
awaitable<bool> HttpClient::exchange(beast::tcp_stream& stream, const Url& url, const std::string& method,
                                     const std::string& target, const std::string& body, const std::string& bearer,
                                     std::chrono::milliseconds timeout, Answer& answer, bool& reusable) {
    http::request<http::string_body> req(http::string_to_verb(method), url.prefix + target, 11);
    req.set(http::field::host, url.host + ":" + url.port);
    req.set(http::field::user_agent, "cppworker-load");
    if (!bearer.empty()) req.set(http::field::authorization, "Bearer " + bearer);
    if (method != "GET") req.set(http::field::content_type, "application/json");
    req.body() = body;
    req.prepare_payload();
    stream.expires_after(timeout);
    auto [write_error, written] = co_await http::async_write(stream, req, asio::as_tuple(use_awaitable));
    if (write_error) co_return false;

    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(boost::none);
    plugin_common::SseSplitter sse;
    auto note_event = [&](std::string_view data) {
        if (data != "[DONE]") answer.events.push_back(std::chrono::steady_clock::now());
    };
    auto on_chunk = [&](std::uint64_t, std::string_view data, beast::error_code&) {
        answer.body.append(data);
        if (answer.event_stream) sse.feed(data, note_event);
        return data.size();
    };
    parser.on_chunk_body(on_chunk);
    auto [head_error, head_bytes] = co_await http::async_read_header(stream, buffer, parser, asio::as_tuple(use_awaitable));
    if (head_error) {
        if (buffer.size() == 0 && (head_error == http::error::end_of_stream || head_error == asio::error::connection_reset)) {
            co_return false;
        }
        answer.error = head_error.message();
        co_return true;
    }
    answer.status = static_cast<int>(parser.get().result_int());
    answer.event_stream = parser.get()[http::field::content_type].starts_with("text/event-stream");
    while (!parser.is_done()) {
        auto [read_error, n] = co_await http::async_read_some(stream, buffer, parser, asio::as_tuple(use_awaitable));
        if (read_error) {
            answer.error = "answer cut short: " + read_error.message();
            answer.status = 0;
            co_return true;
        }
    }
    if (!parser.chunked()) {
        // A stream sent with a Content-Length arrives whole: its events all count as arriving now.
        answer.body = std::move(parser.get().body());
        if (answer.event_stream) sse.feed(answer.body, note_event);
    }
    if (answer.event_stream) sse.finish(note_event);
    reusable = parser.get().keep_alive();
    co_return true;
}

awaitable<Answer> HttpClient::request(const Url& url, std::string method, std::string target, std::string body,
                                      std::string bearer, std::chrono::milliseconds timeout) {
    const std::string origin = url.origin();
    for (int attempt = 0; attempt < 2; ++attempt) {
        Answer answer;
        std::optional<beast::tcp_stream> stream;
        auto& idle = idle_[origin];
        const bool reused = !idle.empty();
        try {
            if (reused) {
                stream.emplace(std::move(idle.back()));
                idle.pop_back();
            } else {
                auto connected = co_await connect(url, timeout);
                stream.emplace(std::move(connected));
            }
        } catch (const beast::system_error& e) {
            answer.error = "connect to " + origin + ": " + e.code().message();
            co_return answer;
        }
        bool reusable = false;
        const bool answered = co_await exchange(*stream, url, method, target, body, bearer, timeout, answer, reusable);
        if (!answered && reused) continue;  // the server had closed it while it was idle
        if (!answered) answer.error = "connection to " + origin + " closed before an answer";
        if (answered && answer.error.empty() && reusable) idle_[origin].push_back(std::move(*stream));
        co_return answer;
    }
    co_return Answer{0, "connection to " + origin + " closed before an answer", {}, false, {}};
}

}  // namespace cppworker::load
