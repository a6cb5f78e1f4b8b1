#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <utility>

namespace cppworker::accounting {

// At most `limit` requests run at once; the others wait in arrival order. FIFO routes share one
// gate of limit 1, a limit-N route has its own. Thread-safe; wakes waiters through callbacks, so
// it knows nothing of sockets or executors.
class ConcurrencyGate {
public:
    explicit ConcurrencyGate(unsigned limit) : limit_(limit) {}

    // True: run now. False: queued; `on_turn` is called once, from the thread of the exit() that
    // hands this waiter its slot.
    bool enter(uint64_t waiter, std::function<void()> on_turn);
    // The waiter gives up (its client left). True if it was still queued; false if its turn came
    // already, in which case it holds a slot and must exit().
    bool leave_queue(uint64_t waiter);
    // A running request is done: its slot passes to the first waiter, if any.
    void exit();

    unsigned running() const;
    std::size_t queued() const;

private:
    const unsigned limit_;
    mutable std::mutex mutex_;
    unsigned running_ = 0;
    std::deque<std::pair<uint64_t, std::function<void()>>> waiting_;
};

}  // namespace cppworker::accounting
