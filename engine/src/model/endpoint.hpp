#pragma once

#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

namespace cppworker::engine {

// An endpoint's scaling parameters, named and defaulted as Vast documents them
// (../shared/protocol.md §13.1); max_queue_time and target_queue_time, which Vast does not
// default in writing, are 30 s and 10 s here.
struct ScalingParams {
    double min_load = 1;             // load units/s the active capacity is planned for at least
    double target_util = 0.9;        // active capacity = anticipated load / target_util
    double cold_mult = 3;            // total capacity = anticipated load x cold_mult
    double min_cold_load = 0;        // total capacity at least this
    int cold_workers = 5;            // workers with the model loaded, active or stopped, at least
    int max_workers = 16;            // workers of every kind, at most
    std::optional<double> inactivity_timeout;  // s of idleness before scaling to zero; < 0 never; unset: not applied
    double max_queue_time = 30;      // s a routed request may expect to wait at its worker
    double target_queue_time = 10;   // s of queue over the ready workers above which its growth sizes them
};

struct Endpoint {
    int64_t id = 0;
    std::string name;
    std::string api_key;  // the endpoint's own key, which /route/ carries
    double created_at = 0;  // epoch seconds
    ScalingParams params;
};

// Workers of one local template serving one endpoint. Its scaling parameters, where given, override
// the endpoint's (Vast lets a workergroup carry them too).
struct Workergroup {
    int64_t id = 0;
    int64_t endpoint_id = 0;
    std::string template_name;  // template_hash or template_id as the client sent it
    int test_workers = 0;
    boost::json::object overrides;  // the scaling parameters given for the group
    boost::json::object as_created;  // what the client sent, echoed back
};

// Reads the parameters present in `fields` over `params`. An error names the field and what it
// must be; nothing is changed then.
std::optional<std::string> read_params(const boost::json::object& fields, ScalingParams& params);

// The endpoint as GET /api/v0/endptjobs/ shows it (../shared/protocol.md §13.4).
boost::json::object endpoint_json(const Endpoint& e);

// The parameters a group runs with: the endpoint's, overridden by the group's.
ScalingParams group_params(const Endpoint& e, const Workergroup& g);

}  // namespace cppworker::engine
