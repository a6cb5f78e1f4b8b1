#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <atomic>
#include <cstddef>
#include <memory>
#include <vector>

namespace cppworker::async {

// The worker's I/O threads, each running an event loop of its own. A connection, the plugin
// calls it makes and the forwards they start all stay on one thread: no strand, no queue shared
// with the other threads, no lock taken by two threads for one request.
class EventLoops {
public:
    explicit EventLoops(unsigned count);
    EventLoops(const EventLoops&) = delete;
    EventLoops& operator=(const EventLoops&) = delete;

    // Background work (accepting, signals, reports, the readiness driver) runs here.
    boost::asio::io_context& primary() { return *loops_.front(); }
    boost::asio::io_context& at(std::size_t index) { return *loops_.at(index); }
    std::size_t size() const { return loops_.size(); }

    // Round robin over the loops, for a new connection.
    std::size_t next_index();
    // The calling thread's loop if it is one of these loops' threads; otherwise the next one.
    std::size_t here_or_next();

    // Runs each loop on a thread of its own until stop(); returns when all have returned.
    void run();
    // Thread-safe; callable from a loop's own thread.
    void stop();

private:
    using WorkGuard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;

    std::vector<std::unique_ptr<boost::asio::io_context>> loops_;
    std::vector<WorkGuard> idle_guards_;  // an idle loop waits for work instead of returning
    std::atomic<std::size_t> next_{0};
};

}  // namespace cppworker::async
