#include "waits.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace cppworker::simulate {
namespace {

constexpr double smallest = 1e-3;  // s: shorter waits count as none
constexpr double ratio = 1.01;
constexpr std::size_t bin_count = 2100;  // up to about 12 days

std::size_t bin_of(double seconds) {
    if (!(seconds >= smallest)) return 0;
    const auto i = static_cast<std::size_t>(std::log(seconds / smallest) / std::log(ratio)) + 1;
    return std::min(i, bin_count - 1);
}

// The middle of a bin, geometrically.
double value_of(std::size_t bin) {
    if (bin == 0) return 0;
    return smallest * std::pow(ratio, static_cast<double>(bin) - 0.5);
}

}  // namespace

WaitHistogram::WaitHistogram() : bins_(bin_count, 0.0) {}

void WaitHistogram::add(double seconds, double requests) {
    if (!(requests > 0)) return;
    bins_[bin_of(seconds)] += requests;
    total_ += requests;
    weighted_sum_ += seconds * requests;
}

double WaitHistogram::quantile(double q) const {
    if (total_ <= 0) return std::numeric_limits<double>::quiet_NaN();
    const double rank = q * total_;
    double seen = 0;
    for (std::size_t i = 0; i < bins_.size(); ++i) {
        seen += bins_[i];
        if (seen >= rank * (1 - 1e-12) && bins_[i] > 0) return value_of(i);
    }
    return value_of(bins_.size() - 1);
}

double WaitHistogram::mean() const {
    return total_ > 0 ? weighted_sum_ / total_ : std::numeric_limits<double>::quiet_NaN();
}

void WaitHistogram::clear() {
    if (total_ > 0) std::fill(bins_.begin(), bins_.end(), 0.0);
    total_ = 0;
    weighted_sum_ = 0;
}

}  // namespace cppworker::simulate
