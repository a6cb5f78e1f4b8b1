#pragma once

#include <chrono>
#include <cstddef>
#include <deque>

namespace cppworker::supervisor {

// When to start a worker again after it crashed. The first crash in a while is restarted at once
// (a plugin that segfaults on one odd request should cost the instance as little as possible);
// crashes that follow within `window` wait twice as long each time, from `first_delay` up to
// `max_delay`, so a worker that dies at start does not spin; the `max_crashes`-th within the
// window gives up, since the instance is then better replaced than restarted.
class CrashPolicy {
public:
    using Clock = std::chrono::steady_clock;
    struct Settings {
        std::chrono::milliseconds window{60'000};
        std::size_t max_crashes = 5;
        std::chrono::milliseconds first_delay{500};
        std::chrono::milliseconds max_delay{30'000};
    };
    struct Decision {
        bool give_up = false;
        std::chrono::milliseconds delay{0};  // before the next start
        std::size_t crashes_in_window = 0;   // this one included
    };

    CrashPolicy() = default;
    explicit CrashPolicy(Settings settings) : settings_(settings) {}

    Decision crashed(Clock::time_point now);
    const Settings& settings() const { return settings_; }

private:
    Settings settings_;
    std::deque<Clock::time_point> crashes_;
};

// The pause before the start that follows the `n`-th crash within the window (n ≥ 1): 0 for the
// first, then first_delay, doubling, capped at max_delay.
std::chrono::milliseconds restart_delay(std::size_t n, std::chrono::milliseconds first_delay,
                                        std::chrono::milliseconds max_delay);

}  // namespace cppworker::supervisor
