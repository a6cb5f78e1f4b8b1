#pragma once
// When an open-loop run sends its requests: arrivals following a profile's rate, evenly spaced
// (constant) or as a Poisson process. Pure: a function of the profile and the seed, not of the
// clock, so a slow sender falls behind its schedule instead of lowering the rate it offers.
#include "profile/profile.hpp"

#include <cstdint>
#include <optional>
#include <random>
#include <string_view>

namespace cppworker::load {

// The profile's format and arithmetic are engine/profile's, shared with cppworker-simulate.
using profile::Profile;
using profile::total_seconds;

enum class Arrivals { constant, poisson };
std::optional<Arrivals> arrivals_named(std::string_view name);

class Schedule {
public:
    Schedule(Profile profile, Arrivals arrivals, uint64_t seed);
    // Seconds from the start at which the next request is due; nothing once the profile ends.
    std::optional<double> next();

private:
    Profile profile_;
    Arrivals arrivals_;
    std::mt19937_64 random_;
    std::exponential_distribution<double> gap_{1.0};
    double count_ = 0;  // arrivals due so far, on the profile's integral of rate
    double end_;
};

}  // namespace cppworker::load
