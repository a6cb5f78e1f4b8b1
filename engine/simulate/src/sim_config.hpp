#pragma once
// What a simulation runs with: the workers' parameters (drawn per worker), the endpoint's scaling
// parameters and the engine's tuning as the engine takes them, and the simulator's own settings.
#include "distribution.hpp"
#include "fleet/worker.hpp"
#include "model/endpoint.hpp"
#include "policy/policy.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

namespace cppworker::simulate {

struct WorkerModel {
    Distribution start_s{Distribution::Kind::constant, 60, 0};   // created to reporting (pull, boot)
    Distribution load_s{Distribution::Kind::constant, 120, 0};   // reporting to loaded and benchmarked
    std::optional<Distribution> restart_s;  // a stopped worker's start to ready; unset: its own load_s
    Distribution perf{Distribution::Kind::constant, 10, 0};      // load units/s it serves (its max_perf)
    Distribution cost_per_hour{Distribution::Kind::constant, 1, 0};          // $ while running (GPU billed)
    Distribution stopped_cost_per_hour{Distribution::Kind::constant, 0, 0};  // $ while stopped (storage)
    std::optional<Distribution> mttf_s;  // mean s to a failure while running; unset: never fails
    double expected_perf = 0;            // the template's expected_perf, until a worker has benchmarked
};

struct SimConfig {
    WorkerModel workers;
    engine::ScalingParams params;
    engine::PolicyTuning tuning;
    engine::Lifetimes lifetimes;  // ready_within: a worker not ready so long after its start is errored
    uint64_t seed = 1;
    double step = 1;             // s of virtual time a step covers
    double tick = 1;             // s between two runs of the policy (the engine's --tick)
    double request_cost = 1;     // load units a request of a profile costs
    bool poisson = true;         // a step's arrivals: a Poisson count, or exactly the expected number
    double client_timeout = 600; // s a request waits for a worker before its client gives up (refused)
};

// The config file's object. An error names the field ("workers.perf: sd must be a number >= 0").
std::variant<SimConfig, std::string> read_sim_config(const boost::json::object& file);

}  // namespace cppworker::simulate
