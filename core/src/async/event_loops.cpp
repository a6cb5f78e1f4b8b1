#include "async/event_loops.hpp"

#include "async/io_thread.hpp"

#include <boost/asio/post.hpp>

#include <stdexcept>
#include <thread>

namespace cppworker::async {
namespace {

// Which of which EventLoops the calling thread runs, if any.
thread_local const EventLoops* current_owner = nullptr;
thread_local std::size_t current_index = 0;

}  // namespace

EventLoops::EventLoops(unsigned count) {
    if (count == 0) throw std::invalid_argument("at least one event loop is needed");
    for (unsigned i = 0; i < count; ++i) {
        // One thread per loop: Asio can leave out its inter-thread wake-ups.
        loops_.push_back(std::make_unique<boost::asio::io_context>(1));
        idle_guards_.emplace_back(loops_.back()->get_executor());
    }
}

std::size_t EventLoops::next_index() { return next_.fetch_add(1, std::memory_order_relaxed) % loops_.size(); }

std::size_t EventLoops::here_or_next() { return current_owner == this ? current_index : next_index(); }

void EventLoops::run() {
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < loops_.size(); ++i) {
        threads.emplace_back([this, i] {
            mark_io_thread();
            current_owner = this;
            current_index = i;
            loops_[i]->run();
            current_owner = nullptr;
        });
    }
    for (auto& t : threads) t.join();
}

void EventLoops::stop() {
    for (auto& loop : loops_) loop->stop();
}

}  // namespace cppworker::async
