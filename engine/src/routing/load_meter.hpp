#pragma once

#include <deque>
#include <utility>

namespace cppworker::engine {

// The load an endpoint is offered: the cost of each request when it first asks /route/, summed
// over a recent window, per second. Routes that wait count too: they are demand the workers
// could not take yet.
class LoadMeter {
public:
    explicit LoadMeter(double longest_window) : keep_(longest_window) {}

    void arrived(double cost, double now);
    // Load units per second over the last `window` seconds.
    double rate(double window, double now) const;
    // When the last request arrived; 0 for never.
    double last_arrival() const { return last_; }

private:
    void forget_before(double t);

    double keep_;
    std::deque<std::pair<double, double>> arrivals_;  // (time, cost), oldest first
    double last_ = 0;
};

}  // namespace cppworker::engine
