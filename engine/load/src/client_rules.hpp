#pragma once
// How Vast's client waits and retries (../shared/protocol.md §3, §4.1), as pure functions of the
// attempt number and uniform draws in [0, 1), so a test can check them without a clock.
#include <algorithm>
#include <cmath>

namespace cppworker::load {

// A waiting /route/ answer: the client polls again after 1 s, then after uniform(0.1, min(2^n +
// U(0,1), 5)) s.
inline double route_poll_delay(int attempt, double u_jitter, double u_pick) {
    if (attempt == 0) return 1.0;
    const double high = std::min(std::pow(2.0, attempt) + u_jitter, 5.0);
    return 0.1 + (high - 0.1) * u_pick;
}

// A worker's 408, 429 or 5xx: the client sleeps min(2^n + U(0,1), 5) s and routes again.
inline double retry_delay(int retry, double u_jitter) { return std::min(std::pow(2.0, retry) + u_jitter, 5.0); }

inline bool retryable(int status) { return status == 408 || status == 429 || status >= 500; }

}  // namespace cppworker::load
