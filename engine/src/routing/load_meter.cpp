#include "routing/load_meter.hpp"

namespace cppworker::engine {

void LoadMeter::arrived(double cost, double now) {
    arrivals_.emplace_back(now, cost);
    last_ = now;
    forget_before(now - keep_);
}

double LoadMeter::rate(double window, double now) const {
    if (window <= 0) return 0;
    double sum = 0;
    for (auto it = arrivals_.rbegin(); it != arrivals_.rend() && it->first > now - window; ++it) sum += it->second;
    return sum / window;
}

void LoadMeter::forget_before(double t) {
    while (!arrivals_.empty() && arrivals_.front().first < t) arrivals_.pop_front();
}

}  // namespace cppworker::engine
