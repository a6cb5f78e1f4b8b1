#pragma once
// A worker parameter drawn for each simulated worker: a fixed value or one of a few distributions,
// read from the simulator's config.
#include <boost/json/value.hpp>

#include <random>
#include <string>
#include <variant>

namespace cppworker::simulate {

struct Distribution {
    enum class Kind { constant, uniform, normal, lognormal, exponential };
    Kind kind = Kind::constant;
    // constant: value; uniform: min, max; normal: mean, sd; lognormal: median, sigma (of the
    // logarithm); exponential: mean.
    double a = 0;
    double b = 0;

    // A draw, never below 0 (a normal one is cut at 0).
    double draw(std::mt19937_64& rng) const;
    double mean() const;
};

// A number (a constant) or {"dist": "constant"|"uniform"|"normal"|"lognormal"|"exponential", ...}
// with its fields. An error says what is wrong; the caller names the field it read.
std::variant<Distribution, std::string> read_distribution(const boost::json::value& v);

}  // namespace cppworker::simulate
