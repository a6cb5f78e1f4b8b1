#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>

namespace cppworker::logging {

// Decides when an event that can repeat fast (a refused connection, a failing address) is worth a
// log line: the first at once, then at most one per `interval`, each telling how many happened
// since the previous line. The caller passes the time, so the decision is a plain function of it.
// Thread-safe.
class RepeatLimiter {
public:
    using Clock = std::chrono::steady_clock;
    explicit RepeatLimiter(Clock::duration interval) : interval_(interval) {}

    // One more event at `now`: the number to log (events since the last line, this one included),
    // or nothing when a line was written less than `interval` ago.
    std::optional<uint64_t> note(Clock::time_point now) {
        std::lock_guard lock(mutex_);
        ++unlogged_;
        if (last_line_ && now - *last_line_ < interval_) return std::nullopt;
        last_line_ = now;
        const auto n = unlogged_;
        unlogged_ = 0;
        return n;
    }

private:
    const Clock::duration interval_;
    std::mutex mutex_;
    std::optional<Clock::time_point> last_line_;
    uint64_t unlogged_ = 0;
};

}  // namespace cppworker::logging
