#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>

namespace cppworker::async {

// Calls running on threads the event loops do not own (the blocking pool). Shutdown waits for
// them to return: the plugin may be finalized only once none of its hooks runs.
class CallCount {
public:
    void begin() {
        std::lock_guard lock(mutex_);
        ++running_;
    }
    void end() {
        {
            std::lock_guard lock(mutex_);
            --running_;
        }
        idle_.notify_all();
    }
    // True once no call runs; false when `limit` passed first.
    bool wait_idle(std::chrono::milliseconds limit) {
        std::unique_lock lock(mutex_);
        return idle_.wait_for(lock, limit, [this] { return running_ == 0; });
    }
    std::size_t running() const {
        std::lock_guard lock(mutex_);
        return running_;
    }

private:
    mutable std::mutex mutex_;
    std::condition_variable idle_;
    std::size_t running_ = 0;
};

}  // namespace cppworker::async
