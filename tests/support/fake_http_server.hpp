#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace cppworker::test {

struct ReceivedRequest {
    std::string method;
    std::string target;
    std::string body;
    std::chrono::steady_clock::time_point arrived;
};

struct CannedAnswer {
    int status = 200;
    std::string body;
    std::string content_type = "application/json";
};

// A real HTTP server on 127.0.0.1 and an ephemeral port, answering each request with what the
// test's function says and keeping a record of what it got. Each connection is served in a thread
// of its own, as a real server serves them side by side: a client may keep one connection open and
// idle while it sends on another. The function is called for one request at a time.
class FakeHttpServer {
public:
    using Answerer = std::function<CannedAnswer(const ReceivedRequest&)>;
    explicit FakeHttpServer(Answerer answer);
    ~FakeHttpServer();
    FakeHttpServer(const FakeHttpServer&) = delete;
    FakeHttpServer& operator=(const FakeHttpServer&) = delete;

    uint16_t port() const;
    std::string url() const;  // http://127.0.0.1:<port>
    std::vector<ReceivedRequest> received() const;
    // Connections accepted so far, refused ones included: how often a peer tried.
    std::size_t connections() const;
    // When each of those was accepted, in order: how a peer spaced its tries.
    std::vector<std::chrono::steady_clock::time_point> connection_times() const;
    // While refusing, every connection is closed at once, unanswered: a peer that is down.
    void set_refusing(bool refusing);
    // Waits until at least `n` requests arrived; false on timeout.
    bool wait_for(std::size_t n, std::chrono::milliseconds timeout) const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace cppworker::test
