#pragma once
// A plain-HTTP/1.1 client on Beast coroutines with keep-alive connections reused per host, as
// Vast's client (aiohttp) keeps them. One io_context thread: no locking.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cppworker::load {

// http://host:port[/prefix]; nothing for anything else (https is not spoken here).
struct Url {
    std::string host;
    std::string port;
    std::string prefix;  // without a trailing slash
    std::string origin() const { return "http://" + host + ":" + port; }
};
std::optional<Url> parse_url(std::string_view text);

struct Answer {
    int status = 0;     // 0: no HTTP answer (error says why)
    std::string error;
    std::string body;   // all of it, streamed or not
    bool event_stream = false;
    // For text/event-stream answers: when each event with data arrived ("[DONE]" left out).
    std::vector<std::chrono::steady_clock::time_point> events;
};

class HttpClient {
public:
    explicit HttpClient(boost::asio::any_io_executor executor) : executor_(std::move(executor)) {}

    // POST `body` (JSON) to url.prefix + target, with `bearer` as Authorization when not empty.
    boost::asio::awaitable<Answer> request(const Url& url, std::string method, std::string target, std::string body,
                                           std::string bearer, std::chrono::milliseconds timeout);

private:
    boost::asio::awaitable<boost::beast::tcp_stream> connect(const Url& url, std::chrono::milliseconds timeout);
    boost::asio::awaitable<bool> exchange(boost::beast::tcp_stream& stream, const Url& url, const std::string& method,
                                          const std::string& target, const std::string& body, const std::string& bearer,
                                          std::chrono::milliseconds timeout, Answer& answer, bool& reusable);

    boost::asio::any_io_executor executor_;
    std::map<std::string, std::vector<boost::beast::tcp_stream>> idle_;  // by origin
};

}  // namespace cppworker::load
