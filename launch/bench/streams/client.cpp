// cppworker-bench-streams: opens N token streams at once (one connection and one POST each), and
// for every event that arrives records its lateness over the stand-in's schedule (arrival minus the
// due time the event carries, both CLOCK_MONOTONIC); also each stream's time to first token and
// what went wrong. One thread, one epoll loop; prints one JSON object. Lateness is given over every
// event, and over the events due once every stream is open ("steady": without the opening burst).
#include "stream_logic.hpp"

#include <CLI/CLI.hpp>
#include <boost/asio.hpp>
#include <boost/json.hpp>

#include <sys/resource.h>

#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>

namespace asio = boost::asio;
namespace json = boost::json;
using asio::ip::tcp;
using bench_streams::now_ns;

namespace {

struct Options {
    std::string host = "127.0.0.1";
    uint16_t port = 0;
    std::string path = "/generate_stream";
    std::string body_file;
    uint32_t streams = 100;
    uint32_t events = 50;
    double timeout_s = 120;
};

struct Figures {
    std::vector<int64_t> lateness, ttft, connect;
    std::vector<int64_t> due;        // each event's due time, in the order of `lateness`
    int64_t all_open = 0;            // when the last stream to start got its first event
    std::map<std::string, uint32_t> errors;
    uint64_t events = 0;
    uint32_t whole = 0, open = 0;
    uint32_t streaming = 0, peak_streaming = 0;  // had their first event and not yet ended
};

class Stream : public std::enable_shared_from_this<Stream> {
public:
    Stream(asio::io_context& io, const Options& o, const std::string& request, Figures& f)
        : socket_(io), options_(o), request_(request), figures_(f) {}

    void start(const tcp::endpoint& to) {
        ++figures_.open;
        started_ = now_ns();
        socket_.async_connect(to, [self = shared_from_this()](boost::system::error_code ec) { self->connected(ec); });
    }
    void cut_short() { end(done_ ? "" : "timeout"); }

private:
    void connected(boost::system::error_code ec) {
        if (ec) return end(ec == asio::error::connection_refused ? "refused" : "connect");
        figures_.connect.push_back(now_ns() - started_);
        socket_.set_option(tcp::no_delay(true), ec);
        written_ = now_ns();
        asio::async_write(socket_, asio::buffer(request_), [self = shared_from_this()](auto e, std::size_t) {
            if (e) return self->end("write");
            self->read();
        });
    }

    void read() {
        socket_.async_read_some(asio::buffer(buf_), [self = shared_from_this()](auto ec, std::size_t n) {
            self->arrived(ec, n);
        });
    }

    void arrived(boost::system::error_code ec, std::size_t n) {
        if (ec) return end(decoder_.head_done() && decoder_.status() != 200 ? "status" : "cut");
        const int64_t now = now_ns();
        const bool ok = decoder_.feed({buf_.data(), n}, [&](std::string_view data) { event(data, now); });
        if (!ok) return end("malformed");
        if (decoder_.head_done() && decoder_.status() != 200) return end("status");
        if (decoder_.done()) return end(last_ && events_ == options_.events && !gap_ ? "" : "missing");
        read();
    }

    void event(std::string_view data, int64_t now) {
        const auto e = bench_streams::parse_event(data);
        if (!e) {
            gap_ = true;
            return;
        }
        if (events_ == 0) {
            figures_.ttft.push_back(now - written_);
            figures_.peak_streaming = std::max(figures_.peak_streaming, ++figures_.streaming);
            figures_.all_open = std::max(figures_.all_open, now);
        }
        gap_ = gap_ || e->id != events_ || last_;
        last_ = e->last;
        ++events_;
        ++figures_.events;
        figures_.lateness.push_back(now - e->due_ns);
        figures_.due.push_back(e->due_ns);
    }

    void end(const std::string& error) {
        if (done_) return;
        done_ = true;
        --figures_.open;
        if (events_ > 0) --figures_.streaming;
        if (error.empty()) {
            ++figures_.whole;
        } else {
            ++figures_.errors[error];
        }
        boost::system::error_code ignored;
        socket_.close(ignored);
    }

    tcp::socket socket_;
    const Options& options_;
    const std::string& request_;
    Figures& figures_;
    bench_streams::AnswerDecoder decoder_;
    std::array<char, 4096> buf_{};
    int64_t started_ = 0, written_ = 0;
    uint32_t events_ = 0;
    bool last_ = false, gap_ = false, done_ = false;
};

json::object ms_percentiles(std::vector<int64_t>& ns, std::initializer_list<std::pair<const char*, double>> which) {
    std::sort(ns.begin(), ns.end());
    json::object o;
    for (const auto& [name, p] : which) o[name] = static_cast<double>(bench_streams::percentile(ns, p)) / 1e6;
    o["max"] = ns.empty() ? 0.0 : static_cast<double>(ns.back()) / 1e6;
    o["count"] = ns.size();
    return o;
}

// User and system CPU seconds of this process.
std::pair<double, double> cpu_seconds() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    const auto s = [](timeval t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
    return {s(u.ru_utime), s(u.ru_stime)};
}

json::object report(const Options& o, Figures& f, int64_t t0, double wall, std::pair<double, double> cpu) {
    // Once every stream is open (each has had its first event), without the burst of opening them.
    std::vector<int64_t> steady;
    for (std::size_t i = 0; i < f.due.size(); ++i)
        if (f.due[i] >= f.all_open) steady.push_back(f.lateness[i]);
    json::object errors;
    uint32_t error_count = 0;
    for (const auto& [kind, n] : f.errors) {
        errors[kind] = n;
        error_count += n;
    }
    const double total = cpu.first + cpu.second;
    return {
        {"streams", o.streams}, {"events_per_stream", o.events}, {"whole", f.whole}, {"errors", error_count},
        {"errors_by_kind", errors}, {"events", f.events},
        {"events_expected", static_cast<uint64_t>(o.streams) * o.events},
        {"lateness_ms", ms_percentiles(f.lateness, {{"p50", 50}, {"p99", 99}, {"p99.9", 99.9}})},
        {"steady_lateness_ms", ms_percentiles(steady, {{"p50", 50}, {"p99", 99}, {"p99.9", 99.9}})},
        {"all_open_after_s", f.all_open ? static_cast<double>(f.all_open - t0) / 1e9 : 0.0},
        {"peak_streaming", f.peak_streaming},
        {"ttft_ms", ms_percentiles(f.ttft, {{"p50", 50}, {"p99", 99}})},
        {"connect_ms", ms_percentiles(f.connect, {{"p50", 50}, {"p99", 99}})},
        {"wall_s", wall}, {"client_cpu_s", total}, {"client_cpu_user_s", cpu.first}, {"client_cpu_sys_s", cpu.second},
        {"client_cpu_us_per_event", f.events ? total * 1e6 / static_cast<double>(f.events) : 0.0},
    };
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    CLI::App app{"Opens N token streams at once and measures each event's lateness over its schedule"};
    app.add_option("--host", o.host, "address of the target")->capture_default_str();
    app.add_option("--port", o.port, "port of the target")->required();
    app.add_option("--path", o.path, "path POSTed")->capture_default_str();
    app.add_option("--body-file", o.body_file, "request body (default: a bare TGI payload)");
    app.add_option("--streams", o.streams, "streams opened at once")->capture_default_str()->check(CLI::PositiveNumber);
    app.add_option("--events", o.events, "events each stream must carry (the stand-in's --events)")
        ->capture_default_str()->check(CLI::PositiveNumber);
    app.add_option("--timeout", o.timeout_s, "seconds before open streams are cut and counted as timeouts")
        ->capture_default_str()->check(CLI::PositiveNumber);
    CLI11_PARSE(app, argc, argv);

    bench_streams::raise_descriptor_limit();

    std::string body = R"({"inputs":"What is deep learning?","parameters":{"max_new_tokens":32}})";
    if (!o.body_file.empty()) {
        std::ifstream in(o.body_file, std::ios::binary);
        if (!in) {
            std::cerr << "cannot read " << o.body_file << '\n';
            return 2;
        }
        body.assign(std::istreambuf_iterator<char>(in), {});
    }
    const std::string request = "POST " + o.path + " HTTP/1.1\r\nHost: " + o.host +
                                "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                                "\r\n\r\n" + body;

    asio::io_context io(1);
    const tcp::endpoint to(asio::ip::make_address(o.host), o.port);
    Figures f;
    f.lateness.reserve(static_cast<std::size_t>(o.streams) * o.events);
    f.due.reserve(f.lateness.capacity());
    std::vector<std::shared_ptr<Stream>> streams;
    const auto cpu0 = cpu_seconds();
    const int64_t t0 = now_ns();
    for (uint32_t i = 0; i < o.streams; ++i) {
        streams.push_back(std::make_shared<Stream>(io, o, request, f));
        streams.back()->start(to);
    }
    asio::steady_timer deadline(io, std::chrono::milliseconds(static_cast<int64_t>(o.timeout_s * 1e3)));
    deadline.async_wait([&](boost::system::error_code ec) {
        if (!ec)
            for (auto& s : streams) s->cut_short();
    });
    // Runs until every stream has ended; then the deadline is all that is left.
    asio::steady_timer poll(io);
    std::function<void()> watch = [&] {
        if (f.open == 0) return (void)deadline.cancel();
        poll.expires_after(std::chrono::milliseconds(10));
        poll.async_wait([&](auto) { watch(); });
    };
    watch();
    io.run();
    const auto cpu = cpu_seconds();
    const json::object out = report(o, f, t0, static_cast<double>(now_ns() - t0) / 1e9,
                                    {cpu.first - cpu0.first, cpu.second - cpu0.second});
    std::cout << json::serialize(out) << std::endl;
    return 0;
}
