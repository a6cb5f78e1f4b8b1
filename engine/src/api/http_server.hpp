#pragma once

#include "http1/reply.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace cppworker::engine {

// A request as the engine's handlers see it.
struct ApiRequest {
    std::string method;
    std::string path;                          // the target without its query
    std::map<std::string, std::string> query;  // decoded; a repeated name keeps its last value
    std::string authorization;                 // the Authorization field, as sent
    std::string body;
};

using ApiHandler = std::function<http1::Reply(const ApiRequest&)>;

struct HttpServerLimits {
    std::size_t max_body_bytes = 1024 * 1024;
    std::chrono::milliseconds read_timeout{30'000};  // for a request to arrive, and each write
};

// The engine's HTTP/1.1 server: keep-alive connections on one event loop, each request answered
// by `handler` (a plain function: the engine's state lives on that loop too).
class HttpServer {
public:
    HttpServer(boost::asio::io_context& io, ApiHandler handler, HttpServerLimits limits);
    ~HttpServer();

    // Binds; returns the port (the chosen one when `port` is 0).
    uint16_t listen(const std::string& address, uint16_t port);
    // Stops accepting; connections end after the answer they are busy with.
    void stop();

    struct State;

private:
    std::shared_ptr<State> state_;
};

// The query of a request target ("a=1&b=x%20y"), decoded: %XX and + (a space), as Python's
// urllib and aiohttp encode them.
std::map<std::string, std::string> parse_query(std::string_view query);

}  // namespace cppworker::engine
