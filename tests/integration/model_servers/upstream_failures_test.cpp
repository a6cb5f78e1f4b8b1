// A model server that fails the worker halfway: one that never completes the TCP handshake, and
// one that dies in the middle of a streamed answer. The client gets a clear answer, or a stream
// visibly cut short, and the worker counts the failure.
#include "fake_model_server.hpp"
#include "http_client.hpp"
#include "worker_process.hpp"

#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include <atomic>
#include <filesystem>
#include <cerrno>
#include <fstream>
#include <stdexcept>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace cppworker::test;
using namespace std::chrono_literals;
namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

struct Fd {
    int fd = -1;
    explicit Fd(int f) : fd(f) {
        if (fd < 0) throw std::runtime_error("socket() failed");
    }
    ~Fd() { ::close(fd); }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
};

sockaddr_in loopback(uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

// A port whose listener takes no more connections and never accepts: Linux drops a SYN while the
// accept queue is over its backlog, so a connect there neither succeeds nor fails, it waits for SYN
// retransmissions, the first a second later. With backlog 0, one completed connection that is
// never accepted fills the queue. Without SYN cookies, backlog 0 also counts the SYN queue as
// full, and even that first handshake never completes: every SYN is dropped from the start.
class BlackHole {
public:
    BlackHole() {
        auto addr = loopback(0);
        if (::bind(listener_.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listener_.fd, 0) != 0) {
            throw std::runtime_error("cannot set up the listener");
        }
        socklen_t len = sizeof addr;
        ::getsockname(listener_.fd, reinterpret_cast<sockaddr*>(&addr), &len);
        port_ = ntohs(addr.sin_port);
        auto to = loopback(port_);
        if (::connect(filler_.fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0 && errno != EINPROGRESS) {
            throw std::runtime_error("the connection that fills the queue failed");
        }
    }
    // True once no connect to the port can complete.
    bool wait_sealed(std::chrono::milliseconds timeout) const {
        std::ifstream cookies("/proc/sys/net/ipv4/tcp_syncookies");
        int mode = 1;
        cookies >> mode;
        if (mode == 0) return true;
        // With cookies the filler's handshake completes: sealed once the listener has queued it.
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (queued() < 1 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(5ms);
        return queued() >= 1;
    }
    uint16_t port() const { return port_; }
    // Connections waiting in the accept queue (tcpi_unacked of a listening socket).
    unsigned queued() const {
        tcp_info info{};
        socklen_t len = sizeof info;
        if (::getsockopt(listener_.fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0) return 0;
        return info.tcpi_unacked;
    }

private:
    Fd listener_{::socket(AF_INET, SOCK_STREAM, 0)};
    Fd filler_{::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)};
    uint16_t port_ = 0;
};

std::string stream_request(int tokens) {
    return json::serialize(json::object{
        {"target", "/generate_stream"},
        {"body", {{"inputs", "What is deep learning?"}, {"parameters", {{"max_new_tokens", tokens}}}}}});
}

// A name server on 127.0.0.1:53 that takes every query and answers none, counting them. Port 53
// needs root, as the worker's own mount namespace below does: the suite runs as root (README).
class SilentNameServer {
public:
    SilentNameServer() {
        auto addr = loopback(53);
        if (::bind(socket_.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
            throw std::runtime_error("cannot bind 127.0.0.1:53 (root needed, and the port free)");
        }
        timeval tick{0, 100'000};
        ::setsockopt(socket_.fd, SOL_SOCKET, SO_RCVTIMEO, &tick, sizeof tick);
        reader_ = std::jthread([this](std::stop_token stop) {
            char packet[512];
            while (!stop.stop_requested()) {
                if (::recv(socket_.fd, packet, sizeof packet, 0) <= 0) continue;
                if (queries_++ == 0) first_query_ = std::chrono::steady_clock::now();
            }
        });
    }
    int queries() const { return queries_; }
    // When the worker began looking the name up; valid once queries() > 0.
    std::chrono::steady_clock::time_point first_query() const { return first_query_; }

private:
    Fd socket_{::socket(AF_INET, SOCK_DGRAM, 0)};
    std::atomic<int> queries_{0};
    std::atomic<std::chrono::steady_clock::time_point> first_query_{};
    std::jthread reader_;
};

}  // namespace

TEST_CASE("forwarding: the model server's name is looked up within --upstream-connect-timeout",
          "[integration][forward]") {
    SilentNameServer dns;
    const auto resolv = fs::temp_directory_path() / ("cppworker-resolv-" + std::to_string(::getpid()));
    std::ofstream(resolv) << "nameserver 127.0.0.1\noptions timeout:5 attempts:2\n";
    // The worker runs in its own mount namespace, where /etc/resolv.conf names only the silent
    // server: left to itself, the C library would wait 5 s a try, twice.
    WorkerProcess w(artifact(TESTKIT_PLUGIN), {"--upstream-connect-timeout", "0.5", "--upstream-timeout", "60"},
                    {{"UNSECURED", "true"}, {"MODEL_SERVER_URL", "http://model-server.test:8080"},
                     {"MODEL_HEALTH_ENDPOINT", "none"}},
                    {"/usr/bin/unshare", "--mount", "--propagation", "private", "/bin/sh", "-c",
                     "mount --bind " + resolv.string() + " /etc/resolv.conf && exec \"$0\" \"$@\""});
    HttpConnection c(w.port(), 15s);
    const auto res = c.request("POST", "/relay", stream_request(2));
    const auto answered = std::chrono::steady_clock::now();
    fs::remove(resolv);
    CHECK(res.status == 504);
    CHECK_THAT(res.body, Catch::Contains("looking up the model server's name model-server.test took over 500 ms"));
    // From the worker's first query, so the time it took to get to the request is no part of it;
    // the C library's own first try alone would take 5 s.
    REQUIRE(dns.queries() >= 1);  // the lookup did go to the silent server
    CHECK(answered - dns.first_query() < 4s);
}

TEST_CASE("forwarding: a connect that does not complete within --upstream-connect-timeout gets 504",
          "[integration][forward]") {
    BlackHole hole;
    REQUIRE(hole.wait_sealed(5s));

    // The upstream timeout is far longer, so a 504 for any other reason would say so.
    WorkerProcess w(artifact(TESTKIT_PLUGIN), {"--upstream-connect-timeout", "0.5", "--upstream-timeout", "60"},
                    {{"UNSECURED", "true"}, {"MODEL_SERVER_URL", "http://127.0.0.1:" + std::to_string(hole.port())},
                     {"MODEL_HEALTH_ENDPOINT", "none"}});
    HttpConnection c(w.port(), 10s);
    const auto res = c.request("POST", "/relay", stream_request(2));
    CHECK(res.status == 504);
    CHECK_THAT(res.body, Catch::Contains("connecting to the model server at 127.0.0.1:" + std::to_string(hole.port()) +
                                         " took over 500 ms"));
    CHECK(wait_metric(w.port(), "cppworker_requests_total{outcome=\"error\"}", 1));
    CHECK(wait_metric(w.port(), "cppworker_upstream_failures_total", 1));
    CHECK(metric(w.port(), "cppworker_upstream_connections_opened_total") == 0);
}

TEST_CASE("forwarding: a model server that dies mid-stream leaves the client a truncated chunked body and counts as an error",
          "[integration][forward]") {
    FakeModelServer fake("tgi", {"--token-delay", "0", "--drop-after", "3"});
    REQUIRE(fake.wait_loaded());
    WorkerProcess w(artifact(TESTKIT_PLUGIN), {},
                    {{"UNSECURED", "true"}, {"MODEL_SERVER_URL", fake.url()}, {"MODEL_HEALTH_ENDPOINT", "none"}});

    HttpConnection c(w.port(), 10s);
    const auto body = stream_request(10);
    c.send_raw("POST /relay HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: " +
               std::to_string(body.size()) + "\r\n\r\n" + body);
    // Returns only once the worker closed the connection.
    const std::string raw = c.read_until_closed();
    INFO("what the client got:\n" << raw);
    const auto head_end = raw.find("\r\n\r\n");
    REQUIRE(head_end != std::string::npos);
    const std::string head = raw.substr(0, head_end + 4);
    const std::string rest = raw.substr(head_end + 4);
    CHECK(head.starts_with("HTTP/1.1 200"));
    CHECK(head.find("Transfer-Encoding: chunked") != std::string::npos);
    // The three events the model server sent, and not the last chunk it never sent.
    CHECK(count(rest, "data:") == 3);
    CHECK(rest.find(R"("index":3,)") != std::string::npos);
    CHECK(rest.find("\r\n0\r\n\r\n") == std::string::npos);
    CHECK_FALSE(rest.starts_with("0\r\n"));

    CHECK(fake.wait_for([](const json::object& s) { return stat(s, "drops") == 1; }));
    CHECK(wait_metric(w.port(), "cppworker_requests_total{outcome=\"error\"}", 1));
    CHECK(metric(w.port(), "cppworker_requests_total{outcome=\"success\"}") == 0);
    CHECK(wait_metric(w.port(), "cppworker_upstream_failures_total", 1));
    CHECK(w.wait_for_log("the model server closed the connection while its answer was being read"));
}
