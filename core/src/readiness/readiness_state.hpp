#pragma once

#include <chrono>
#include <mutex>
#include <string>

namespace cppworker::readiness {

// What the autoscaler is told about the backend (core/protocol.md §2.1, §8): loaded with its load
// time and benchmarked throughput, or failed with a message that, once set, stays. Thread-safe.
class ReadinessState {
public:
    struct View {
        bool loaded = false;
        double loadtime = 0;  // seconds from start to loaded; 0 until then
        double max_perf = 0;
        std::string error_msg;
    };

    explicit ReadinessState(std::chrono::steady_clock::time_point started) : started_(started) {}

    void set_loaded(double max_perf);
    // The first error is kept: it is the cause, what follows is usually its consequence.
    void set_error(std::string message);
    View view() const;
    // Serving as far as the autoscaler is concerned: loaded, and no error.
    bool ready() const;
    double max_perf() const;

private:
    const std::chrono::steady_clock::time_point started_;
    mutable std::mutex mutex_;
    View view_;
};

}  // namespace cppworker::readiness
