#include "runner.hpp"

#include "engine_api.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <cstdio>

namespace cppworker::load {
namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using Clock = std::chrono::steady_clock;

namespace {

struct State {
    const RunOptions& options;
    Clock::time_point start;
    HttpClient client;
    Sender sender;
    RunResult result;
    uint32_t next_index = 0;
    int in_flight = 0;
    bool sending_done = false;

    State(asio::io_context& io, const RunOptions& o)
        : options(o), start(Clock::now()), client(io.get_executor()),
          sender(client, o.target, o.rules, start, o.seed ^ 0x5eed), result{} {}

    bool finished() const { return sending_done && in_flight == 0; }
    double now() const { return std::chrono::duration<double>(Clock::now() - start).count(); }
    Clock::time_point at(double seconds) const {
        return start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    }
};

awaitable<void> one_request(State& s, Payload payload, double intended) {
    ++s.in_flight;
    auto record = co_await s.sender.send(payload, intended);
    s.result.records.push_back(std::move(record));
    --s.in_flight;
}

awaitable<void> open_loop(State& s) {
    Schedule schedule(s.options.shape.profile, s.options.shape.arrivals, s.options.seed);
    asio::steady_timer timer(co_await asio::this_coro::executor);
    while (auto due = schedule.next()) {
        timer.expires_at(s.at(*due));
        co_await timer.async_wait(use_awaitable);
        // Sent late if the loop fell behind, but measured from when it was due.
        asio::co_spawn(timer.get_executor(), one_request(s, s.options.payload(s.next_index++), *due), asio::detached);
    }
    // A profile that ends in a pause still runs to its end: the workers are watched meanwhile.
    timer.expires_at(s.at(total_seconds(s.options.shape.profile)));
    co_await timer.async_wait(use_awaitable);
    s.sending_done = true;
}

awaitable<void> closed_client(State& s, int& running) {
    while (s.now() < s.options.shape.seconds) {
        const double t = s.now();
        auto payload = s.options.payload(s.next_index++);
        co_await one_request(s, std::move(payload), t);
    }
    if (--running == 0) s.sending_done = true;
}

void print_progress(State& s, std::size_t& last_sent, double& last_t) {
    std::size_t ok = 0;
    for (const auto& r : s.result.records) ok += r.outcome == Outcome::ok;
    const std::size_t answered = s.result.records.size();
    const std::size_t sent = answered + static_cast<std::size_t>(s.in_flight);
    const double t = s.now();
    const double rate = t > last_t ? static_cast<double>(sent - last_sent) / (t - last_t) : 0;
    last_sent = sent;
    last_t = t;
    std::fprintf(stderr, "\r%6.1fs  sent %zu  answered %zu  errors %zu  in flight %d  rate %.1f/s   ", t, sent,
                 answered, answered - ok, s.in_flight, rate);
    std::fflush(stderr);
}

// Every second, until the run ends: the engine's worker states, and the progress line.
awaitable<void> watch(State& s) {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    std::size_t last_sent = 0;
    double last_t = 0;
    for (int tick = 0; !s.finished(); ++tick) {
        if (s.options.endpoint_id && tick % 2 == 0) {
            const double t = s.now();
            auto states = co_await worker_states(s.client, s.options.target.url, *s.options.endpoint_id,
                                                 s.options.account_key);
            s.result.workers.push_back({t, std::move(states)});
        }
        if (s.options.progress) print_progress(s, last_sent, last_t);
        timer.expires_after(std::chrono::milliseconds(500));
        co_await timer.async_wait(use_awaitable);
    }
    if (s.options.progress) {
        print_progress(s, last_sent, last_t);
        std::fputc('\n', stderr);
    }
}

}  // namespace

RunResult run_load(const RunOptions& options) {
    asio::io_context io;
    State s(io, options);
    int running = options.shape.concurrency;
    if (options.shape.open) {
        asio::co_spawn(io, open_loop(s), asio::detached);
    } else {
        for (int i = 0; i < options.shape.concurrency; ++i) asio::co_spawn(io, closed_client(s, running), asio::detached);
    }
    asio::co_spawn(io, watch(s), asio::detached);
    io.run();
    double end = options.shape.open ? total_seconds(options.shape.profile) : options.shape.seconds;
    for (const auto& r : s.result.records) end = std::max(end, r.done);
    s.result.seconds = end;
    return std::move(s.result);
}

}  // namespace cppworker::load
