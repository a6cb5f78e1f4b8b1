#include "supervisor/crash_policy.hpp"

#include <algorithm>

namespace cppworker::supervisor {

std::chrono::milliseconds restart_delay(std::size_t n, std::chrono::milliseconds first_delay,
                                        std::chrono::milliseconds max_delay) {
    if (n <= 1) return std::chrono::milliseconds(0);
    auto delay = first_delay;
    for (std::size_t i = 2; i < n && delay < max_delay; ++i) delay *= 2;
    return std::min(delay, max_delay);
}

CrashPolicy::Decision CrashPolicy::crashed(Clock::time_point now) {
    while (!crashes_.empty() && now - crashes_.front() > settings_.window) crashes_.pop_front();
    crashes_.push_back(now);
    Decision d;
    d.crashes_in_window = crashes_.size();
    d.give_up = crashes_.size() >= settings_.max_crashes;
    if (!d.give_up) d.delay = restart_delay(crashes_.size(), settings_.first_delay, settings_.max_delay);
    return d;
}

}  // namespace cppworker::supervisor
