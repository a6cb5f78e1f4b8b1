#pragma once
// The figures of a run, from its records: pure arithmetic, unit-tested without sockets.
#include "record.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cppworker::load {

// The nearest-rank percentile (the smallest value with at least p % of the sample at or below it);
// NaN for an empty sample. `sorted` must be in ascending order.
double percentile(const std::vector<double>& sorted, double p);

struct Distribution {
    std::size_t count = 0;
    double mean = 0, p50 = 0, p90 = 0, p99 = 0, p999 = 0, max = 0;
};
Distribution distribution(std::vector<double> values);

// Thresholds in seconds; a request meets the SLO when it is 2xx and within every one given.
struct Slo {
    std::optional<double> ttft;
    std::optional<double> itl;  // the request's mean gap between tokens
    std::optional<double> latency;
    bool any() const { return ttft || itl || latency; }
};
bool meets(const Record& r, const Slo& slo);

struct Summary {
    std::size_t requests = 0, ok = 0, server_errors = 0, transport = 0, unrouted = 0, retries = 0;
    std::map<int, std::size_t> client_errors;  // 4xx by status
    std::map<int, std::size_t> route_errors;   // /route/'s non-200 by status
    std::map<std::string, std::size_t> errors; // what went wrong, in words, for requests without an answer
    double seconds = 0;                        // the run's length
    double served_per_second = 0;              // 2xx answers per second
    double error_rate = 0;                     // not 2xx, over all requests
    Distribution latency;                      // 2xx only
    Distribution ttft, itl;                    // streams only: first token, gaps between tokens
    std::size_t streams = 0;
    uint64_t tokens = 0;
    double tokens_per_second = 0;
    std::size_t good = 0;                      // met the SLO
    double goodput = 0;                        // good per second
    double slo_attainment = 0;                 // good over all requests
};
Summary summarize(const std::vector<Record>& records, double seconds, const Slo& slo);

// One second of the run: arrivals due, requests sent, 2xx answered, p99 latency of those (NaN
// when none), other endings.
struct Second {
    double offered = 0, sent = 0, served = 0, p99 = 0, errors = 0;
};
std::vector<Second> per_second(const std::vector<Record>& records, double seconds);

}  // namespace cppworker::load
