#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace cppworker::test {

struct HttpResponse {
    int status = 0;
    std::string body;
    std::map<std::string, std::string> headers;  // names in lower case
    bool keep_alive = false;

    std::string header(const std::string& lower_name) const {
        const auto it = headers.find(lower_name);
        return it == headers.end() ? std::string() : it->second;
    }
};

struct Chunk {
    std::chrono::steady_clock::time_point arrived;
    std::string data;
};

// A blocking HTTP/1.1 client on one TCP connection to 127.0.0.1, for black-box tests. Every read
// gives up after `timeout`, so a hung server fails a test instead of stalling it.
class HttpConnection {
public:
    explicit HttpConnection(uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(15));
    // With SO_RCVBUF set before connecting (receive_buffer > 0): a client that can hold only that
    // much unread, so that the server feels it at once when the client stops reading.
    HttpConnection(uint16_t port, std::chrono::milliseconds timeout, int receive_buffer);
    ~HttpConnection();
    HttpConnection(const HttpConnection&) = delete;
    HttpConnection& operator=(const HttpConnection&) = delete;

    HttpResponse request(std::string_view method, std::string_view target, std::string_view body = {},
                         const std::map<std::string, std::string>& headers = {});

    // Sends a request and reads its chunked answer piece by piece, noting when each arrived.
    std::pair<HttpResponse, std::vector<Chunk>> stream(std::string_view method, std::string_view target,
                                                       std::string_view body);

    // Reads a chunked answer to its last chunk, or until the server closes the connection:
    // `complete` says which, `body` has the data of the chunks that came.
    struct StreamedAnswer {
        HttpResponse head;
        std::string body;
        bool complete = false;
    };
    StreamedAnswer read_stream();

    // Raw access, for requests no well-behaved client would send.
    void send_raw(std::string_view bytes);
    HttpResponse read_response();
    // Everything the server sends until it closes the connection, unparsed; throws if it has not
    // closed within the read timeout. A reset after the data counts as closed, too.
    std::string read_until_closed();
    // SO_RCVBUF of the connected socket: a client that reads again at full speed.
    void set_receive_buffer(int bytes);
    // True once the server closed the connection (reads EOF) within `wait`.
    bool closed_by_peer(std::chrono::milliseconds wait);
    void close();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// One request on a fresh connection.
HttpResponse http(uint16_t port, std::string_view method, std::string_view target, std::string_view body = {});

// Polls the worker's GET /readyz until it answers `status`; false after `limit`.
bool wait_ready(uint16_t port, int status, std::chrono::milliseconds limit = std::chrono::seconds(20));

// The streamed body, pieced together.
std::string joined(const std::vector<Chunk>& chunks);
// How often `what` occurs in `text`, without overlaps.
std::size_t count(std::string_view text, std::string_view what);

// The value of one sample on the worker's GET /metrics, e.g.
// `cppworker_requests_total{outcome="success"}`; -1 when absent.
double metric(uint16_t port, std::string_view sample);
// Polls metric() until it equals `value`; false after `timeout`.
bool wait_metric(uint16_t port, std::string_view sample, double value,
                 std::chrono::milliseconds timeout = std::chrono::seconds(10));
// Polls metric() until it is at least `value`; false after `timeout`.
bool wait_metric_at_least(uint16_t port, std::string_view sample, double value,
                          std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace cppworker::test
