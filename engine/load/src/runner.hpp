#pragma once
// A load run: a closed loop (a fixed number of clients, each sending its next request when the
// last one ends) or an open loop (requests sent when the schedule says, however long the answers
// take), with a progress line and the engine's worker states sampled every second.
#include "profile/profile.hpp"
#include "record.hpp"
#include "schedule.hpp"
#include "sender.hpp"

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cppworker::load {

struct Shape {
    bool open = true;
    Profile profile;  // open loop
    Arrivals arrivals = Arrivals::constant;
    int concurrency = 0;  // closed loop
    double seconds = 0;   // closed loop
};

struct WorkerSample {
    double t = 0;
    std::map<std::string, int> states;
};

struct RunOptions {
    Shape shape;
    Target target;
    SendRules rules;
    std::function<Payload(uint32_t)> payload;  // the index-th request's payload
    uint64_t seed = 1;
    bool progress = false;  // a live line on stderr
    // Against the engine: whose workers to sample, with the account key.
    std::optional<int64_t> endpoint_id;
    std::string account_key;
};

struct RunResult {
    std::vector<Record> records;
    double seconds = 0;  // from the start to the last answer (or the schedule's end, if later)
    std::vector<WorkerSample> workers;
};

RunResult run_load(const RunOptions& options);

}  // namespace cppworker::load
