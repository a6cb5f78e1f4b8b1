#include "accounting/concurrency_gate.hpp"

#include <algorithm>

namespace cppworker::accounting {

bool ConcurrencyGate::enter(uint64_t waiter, std::function<void()> on_turn) {
    std::lock_guard lock(mutex_);
    if (running_ < limit_ && waiting_.empty()) {
        ++running_;
        return true;
    }
    waiting_.emplace_back(waiter, std::move(on_turn));
    return false;
}

bool ConcurrencyGate::leave_queue(uint64_t waiter) {
    std::lock_guard lock(mutex_);
    const auto it = std::find_if(waiting_.begin(), waiting_.end(), [&](const auto& w) { return w.first == waiter; });
    if (it == waiting_.end()) return false;
    waiting_.erase(it);
    return true;
}

void ConcurrencyGate::exit() {
    std::function<void()> next;
    {
        std::lock_guard lock(mutex_);
        if (waiting_.empty()) {
            if (running_ > 0) --running_;
            return;
        }
        // The slot changes hands without ever being free, so no newcomer can jump the queue.
        next = std::move(waiting_.front().second);
        waiting_.pop_front();
    }
    next();
}

unsigned ConcurrencyGate::running() const {
    std::lock_guard lock(mutex_);
    return running_;
}

std::size_t ConcurrencyGate::queued() const {
    std::lock_guard lock(mutex_);
    return waiting_.size();
}

}  // namespace cppworker::accounting
