#pragma once
// What became of one request, as the load tool saw it. Times are seconds from the run's start.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cppworker::load {

enum class Outcome {
    ok,            // the worker answered 2xx
    client_error,  // the worker answered 4xx (status says which)
    server_error,  // the worker answered 5xx
    transport,     // no HTTP answer: refused, reset, timed out (error says which)
    unrouted,      // /route/ named no worker before --route-timeout
    route_error,   // /route/ itself answered other than 200 (status says which)
};
const char* outcome_name(Outcome o);

struct Record {
    double intended = 0;  // when it was due: the schedule's time (open loop) or its send time (closed)
    double sent = 0;      // when its first call went out
    double done = 0;      // when its last answer ended
    Outcome outcome = Outcome::transport;
    int status = 0;
    std::string error;
    int attempts = 0;  // calls to a worker (1 + retries)
    double cost = 0;
    // Streams: the first token's arrival (from `intended`), the gaps between tokens, their count.
    std::optional<double> first_token;
    std::vector<double> token_gaps;
    uint64_t tokens = 0;

    double latency() const { return done - intended; }
};

}  // namespace cppworker::load
