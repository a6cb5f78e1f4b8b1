#pragma once
// Queue times of many requests, weighted by how many waited so long: a histogram of 1 % wide
// bins, so a day of millions of requests costs a few thousand numbers.
#include <vector>

namespace cppworker::simulate {

class WaitHistogram {
public:
    WaitHistogram();
    void add(double seconds, double requests);
    // The wait `q` (0..1) of the requests fall within, to 1 %; NaN when none was added.
    double quantile(double q) const;
    double requests() const { return total_; }
    double mean() const;
    void clear();

private:
    std::vector<double> bins_;  // bins_[0]: under 1 ms; then bins 1 % wide
    double total_ = 0;
    double weighted_sum_ = 0;
};

}  // namespace cppworker::simulate
