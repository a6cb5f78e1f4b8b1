#include "report/axis.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace cppworker::report {

namespace {

// A degenerate range still needs a length to be drawn: a single value sits mid-axis.
std::pair<double, double> widened(double lo, double hi) {
    if (!std::isfinite(lo) || !std::isfinite(hi)) return {0, 1};
    if (hi < lo) std::swap(lo, hi);
    if (hi > lo) return {lo, hi};
    double half = lo == 0 ? 0.5 : std::abs(lo) / 2;
    return {lo == 0 ? 0 : lo - half, lo == 0 ? 1 : hi + half};
}

}  // namespace

Axis nice_axis(double lo_in, double hi_in, int max_ticks) {
    auto [lo, hi] = widened(lo_in, hi_in);
    int intervals = std::max(1, max_ticks - 1);
    double magnitude = std::pow(10.0, std::floor(std::log10((hi - lo) / intervals)));
    Axis axis;
    for (double multiple : {1.0, 2.0, 5.0, 10.0, 20.0}) {
        double step = multiple * magnitude;
        double first = std::floor(lo / step);
        double last = std::ceil(hi / step);
        if (last - first <= intervals || multiple == 20.0) {
            axis.step = step;
            axis.lo = first * step;
            axis.hi = last * step;
            break;
        }
    }
    auto count = static_cast<int>(std::lround((axis.hi - axis.lo) / axis.step));
    for (int i = 0; i <= count; ++i) {
        double tick = axis.lo + i * axis.step;
        // Sums of steps leave residues like 1e-17 where a label must say 0.
        axis.ticks.push_back(std::abs(tick) < axis.step * 1e-9 ? 0.0 : tick);
    }
    return axis;
}

std::string tick_label(double value, double step) {
    int decimals = step >= 1 ? 0 : static_cast<int>(std::ceil(-std::log10(step) - 1e-9));
    if (std::abs(value) < step * 1e-9) value = 0;
    return fmt::format("{:.{}f}", value, decimals);
}

}  // namespace cppworker::report
