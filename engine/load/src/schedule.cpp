#include "schedule.hpp"

namespace cppworker::load {

std::optional<Arrivals> arrivals_named(std::string_view name) {
    if (name == "constant") return Arrivals::constant;
    if (name == "poisson") return Arrivals::poisson;
    return std::nullopt;
}

Schedule::Schedule(Profile profile, Arrivals arrivals, uint64_t seed)
    : profile_(std::move(profile)), arrivals_(arrivals), random_(seed), end_(total_seconds(profile_)) {}

// Arrival k (from 1) is due when the integral of the rate reaches k - 1/2 (constant: in the middle
// of its slot, so each second of a steady rate holds exactly its rate), or a sum of k exponential
// gaps of mean 1 (Poisson: a process of varying rate is a unit-rate one with its time stretched by
// that integral).
std::optional<double> Schedule::next() {
    count_ += arrivals_ == Arrivals::constant ? 1.0 : gap_(random_);
    const double t = profile::time_of(profile_, arrivals_ == Arrivals::constant ? count_ - 0.5 : count_);
    if (t > end_) return std::nullopt;
    return t;
}

}  // namespace cppworker::load
