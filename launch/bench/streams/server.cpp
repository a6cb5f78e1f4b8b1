// cppworker-bench-stream-server: a model-server stand-in for the streams-at-scale benchmark. One
// thread, one epoll loop: GET /health, POST /generate (a small JSON answer, for a tgi worker's
// start-up benchmark) and POST /generate_stream, which answers TGI-shaped SSE events on an absolute
// schedule from the request's arrival, each event its own chunk and carrying its own due time.
// One timer over a min-heap of due times, on ticks of --tick-ms, writes every event due, however
// many streams are open.
#include "stream_logic.hpp"

#include <CLI/CLI.hpp>
#include <boost/asio.hpp>

#include <sys/socket.h>

#include <cerrno>
#include <charconv>
#include <fstream>
#include <iostream>
#include <memory>
#include <queue>

namespace asio = boost::asio;
using asio::ip::tcp;
using bench_streams::now_ns;

namespace {

struct Options {
    std::string listen = "127.0.0.1";
    uint16_t port = 0;
    std::string port_file;
    uint32_t events = 50;
    double interval_ms = 50;
    double tick_ms = 0.25;
};

// One client connection. Writes go straight to the socket (MSG_DONTWAIT); what the socket does not
// take waits in `queued_` until it is writable again.
class Connection : public std::enable_shared_from_this<Connection> {
public:
    explicit Connection(tcp::socket s) : socket_(std::move(s)) {}
    tcp::socket& socket() { return socket_; }
    bool open() const { return socket_.is_open(); }

    void send(std::string_view data) {
        if (!open()) return;
        if (queued_.empty()) {
            const auto n = ::send(socket_.native_handle(), data.data(), data.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
            if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return close();
            data.remove_prefix(n < 0 ? 0 : static_cast<std::size_t>(n));
            if (data.empty()) return;
            queued_.assign(data);
            socket_.async_wait(tcp::socket::wait_write, [self = shared_from_this()](auto ec) { self->flush(ec); });
        } else {
            queued_.append(data);
        }
    }

    void close() {
        boost::system::error_code ignored;
        socket_.close(ignored);
    }

private:
    void flush(boost::system::error_code ec) {
        if (ec || !open()) return close();
        const auto n = ::send(socket_.native_handle(), queued_.data(), queued_.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return close();
        queued_.erase(0, n < 0 ? 0 : static_cast<std::size_t>(n));
        if (!queued_.empty())
            socket_.async_wait(tcp::socket::wait_write, [self = shared_from_this()](auto e) { self->flush(e); });
    }

    tcp::socket socket_;
    std::string queued_;
};

struct Due {
    int64_t at;
    int64_t t0;
    uint32_t k;
    std::shared_ptr<Connection> conn;
    bool operator>(const Due& o) const { return at > o.at; }
};

class Schedule {
public:
    Schedule(asio::io_context& io, const Options& o)
        : timer_(io), events_(o.events), interval_(static_cast<int64_t>(o.interval_ms * 1e6)),
          tick_(std::max<int64_t>(1, static_cast<int64_t>(o.tick_ms * 1e6))) {}

    // Writes the answer's head and event 0 at once, the rest when due.
    void start(const std::shared_ptr<Connection>& conn) {
        const int64_t t0 = now_ns();
        std::string out =
            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
            "Transfer-Encoding: chunked\r\n\r\n";
        write_event(out, conn, t0, 0);
        if (events_ > 1) push({bench_streams::due_ns(t0, 1, interval_), t0, 1, conn});
    }

private:
    void write_event(std::string& out, const std::shared_ptr<Connection>& conn, int64_t t0, uint32_t k) {
        const bool last = k + 1 == events_;
        bench_streams::append_event_chunk(out, k, bench_streams::due_ns(t0, k, interval_), last);
        if (last) out += "0\r\n\r\n";
        conn->send(out);
    }

    void push(Due d) {
        heap_.push(std::move(d));
        if (!armed_) arm();
    }

    void arm() {
        armed_ = true;
        // On the next tick at or after the earliest due time: one wake-up writes every event due by
        // then, instead of one wake-up (and timer system call) per event.
        const int64_t at = (heap_.top().at + tick_ - 1) / tick_ * tick_;
        timer_.expires_at(asio::steady_timer::time_point(std::chrono::nanoseconds(at)));
        timer_.async_wait([this](boost::system::error_code ec) {
            armed_ = false;
            if (!ec) tick();
        });
    }

    void tick() {
        const int64_t now = now_ns();
        std::string out;
        while (!heap_.empty() && heap_.top().at <= now) {
            Due d = heap_.top();
            heap_.pop();
            if (!d.conn->open()) continue;
            out.clear();
            write_event(out, d.conn, d.t0, d.k);
            if (++d.k < events_) {
                d.at = bench_streams::due_ns(d.t0, d.k, interval_);
                heap_.push(std::move(d));
            }
        }
        if (!heap_.empty()) arm();
    }

    asio::steady_timer timer_;
    const uint32_t events_;
    const int64_t interval_;
    const int64_t tick_;
    std::priority_queue<Due, std::vector<Due>, std::greater<>> heap_;
    bool armed_ = false;
};

std::string_view header_value(std::string_view head, std::string_view name) {
    for (auto at = head.find("\r\n"); at != std::string_view::npos;) {
        const auto next = head.find("\r\n", at + 2);
        const auto line = head.substr(at + 2, next == std::string_view::npos ? next : next - at - 2);
        if (line.size() > name.size() && line[name.size()] == ':' &&
            std::equal(name.begin(), name.end(), line.begin(), [](char a, char b) { return a == (b | 0x20); })) {
            auto v = line.substr(name.size() + 1);
            while (v.starts_with(' ')) v.remove_prefix(1);
            return v;
        }
        at = next;
    }
    return {};
}

asio::awaitable<void> serve(std::shared_ptr<Connection> conn, Schedule& schedule) {
    std::string in;
    char buf[16384];
    try {
        for (;;) {
            std::size_t head_end;
            while ((head_end = in.find("\r\n\r\n")) == std::string::npos) {
                const auto n = co_await conn->socket().async_read_some(asio::buffer(buf), asio::use_awaitable);
                in.append(buf, n);
            }
            const std::string_view head(in.data(), head_end + 2);
            std::size_t length = 0;
            const auto cl = header_value(head, "content-length");
            std::from_chars(cl.data(), cl.data() + cl.size(), length);
            while (in.size() < head_end + 4 + length) {
                const auto n = co_await conn->socket().async_read_some(asio::buffer(buf), asio::use_awaitable);
                in.append(buf, n);
            }
            const auto line = head.substr(0, head.find("\r\n"));
            if (line.starts_with("POST /generate_stream ")) {
                schedule.start(conn);  // the next request is read while this one streams: none comes before its end
            } else if (line.starts_with("POST /generate ")) {
                static constexpr std::string_view answer = R"({"generated_text":"the stand-in's whole answer"})";
                conn->send("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                           std::to_string(answer.size()) + "\r\n\r\n" + std::string(answer));
            } else if (line.starts_with("GET /health ")) {
                conn->send("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok");
            } else {
                conn->send("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
            }
            in.erase(0, head_end + 4 + length);
        }
    } catch (const boost::system::system_error&) {
    }
    conn->close();
}

asio::awaitable<void> accept(tcp::acceptor& acceptor, Schedule& schedule) {
    for (;;) {
        auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
        if (ec) {
            if (ec == asio::error::operation_aborted) co_return;
            std::cerr << "accept: " << ec.message() << '\n';  // out of descriptors: go on with the open ones
            continue;
        }
        socket.set_option(tcp::no_delay(true));
        asio::co_spawn(acceptor.get_executor(), serve(std::make_shared<Connection>(std::move(socket)), schedule),
                       asio::detached);
    }
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    CLI::App app{"A model-server stand-in that holds thousands of TGI token streams on one thread"};
    app.add_option("--listen", o.listen, "address to listen on")->capture_default_str();
    app.add_option("--port", o.port, "port (0: a free one)")->capture_default_str();
    app.add_option("--port-file", o.port_file, "write the bound port here once listening");
    app.add_option("--events", o.events, "events per stream, the last with generated_text")
        ->capture_default_str()->check(CLI::PositiveNumber);
    app.add_option("--interval-ms", o.interval_ms, "ms between a stream's events")
        ->capture_default_str()->check(CLI::PositiveNumber);
    app.add_option("--tick-ms", o.tick_ms, "events are written on ticks this far apart: up to this late")
        ->capture_default_str()->check(CLI::PositiveNumber);
    CLI11_PARSE(app, argc, argv);

    bench_streams::raise_descriptor_limit();

    asio::io_context io(1);
    tcp::acceptor acceptor(io);
    const tcp::endpoint at(asio::ip::make_address(o.listen), o.port);
    acceptor.open(at.protocol());
    acceptor.set_option(tcp::acceptor::reuse_address(true));
    acceptor.bind(at);
    acceptor.listen(65535);  // the kernel caps it at net.core.somaxconn
    if (!o.port_file.empty()) {
        const auto tmp = o.port_file + ".tmp";
        std::ofstream(tmp) << acceptor.local_endpoint().port() << '\n';
        std::rename(tmp.c_str(), o.port_file.c_str());
    }
    Schedule schedule(io, o);
    asio::co_spawn(io, accept(acceptor, schedule), asio::detached);
    asio::signal_set stop(io, SIGINT, SIGTERM);
    stop.async_wait([&](auto, int) { io.stop(); });
    io.run();
}
