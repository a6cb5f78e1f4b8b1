#pragma once
// Axis scales with "nice" ticks (steps of 1, 2 or 5 times a power of ten), for report/run.hpp.
#include <string>
#include <vector>

namespace cppworker::report {

struct Axis {
    double lo = 0;
    double hi = 1;
    double step = 1;
    std::vector<double> ticks;  // lo, lo + step, ..., hi
};

// The smallest nice axis that covers [lo, hi] with at most about `max_ticks` ticks. An empty or
// one-point range is widened so the axis still has a length.
Axis nice_axis(double lo, double hi, int max_ticks);
// A tick's label, with as many decimals as the step needs (0.1 steps show one decimal).
std::string tick_label(double value, double step);

// Text safe inside XML/HTML elements and attribute values.
std::string escape_xml(const std::string& text);

}  // namespace cppworker::report
