#pragma once

#include "fleet/worker.hpp"
#include "policy/policy.hpp"

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace cppworker::engine {

// One worker as a sample saw it.
struct WorkerSample {
    int64_t id = 0;
    int64_t workergroup_id = 0;
    WorkerState state = WorkerState::loading;
    bool has_model = false;        // a stopped worker with it is "cold": it starts quickly
    double cur_load = 0;           // load in flight, from its last report
    double throughput = 0;         // load units/s it served between its last two reports
    double max_perf = 0;           // its benchmark
    int64_t requests_working = 0;
    std::string error;
};

// What the policy concluded for one workergroup at that tick.
struct GroupSample {
    int64_t workergroup_id = 0;
    double anticipated_load = 0;
    int active_wanted = 0;
    int total_wanted = 0;
    std::string why;
};

// What the engine saw of one endpoint at one tick.
struct Sample {
    uint64_t seq = 0;  // given by History: increasing over samples and actions alike
    double time = 0;   // epoch s
    int64_t endpoint_id = 0;
    double offered = 0;  // load units/s routed to the endpoint (first asks, waiting ones too)
    double served = 0;   // load units/s its serving workers report they served
    std::optional<double> queue_time;  // s a request routed now can expect to wait; none without capacity
    std::size_t waiting = 0;           // routes waiting for a worker
    double waiting_load = 0;
    // Since the engine started: routes given a worker, waiting answers sent, and the requests
    // its workers reported done (/delete_requests/) as succeeded or failed.
    struct Requests {
        uint64_t routed = 0, waited = 0, succeeded = 0, failed = 0;
    } requests;
    std::vector<GroupSample> groups;
    std::vector<WorkerSample> workers;
};

// One thing the engine did to a worker, and why.
struct ActionRecord {
    uint64_t seq = 0;
    double time = 0;
    int64_t endpoint_id = 0;
    int64_t workergroup_id = 0;
    Action::Kind kind = Action::Kind::create;
    int64_t worker = 0;
    std::string reason;
    std::string error;  // empty when it was carried out
};

// How much History keeps of each endpoint.
struct HistoryLimits {
    std::size_t samples = 3600;  // per endpoint
    std::size_t actions = 1000;  // per endpoint

    // `span` seconds of samples taken every `tick` seconds (at least 1, at most 36,000 of them).
    static HistoryLimits for_tick(double tick, double span = 3600);
};

// What the engine saw and did, per endpoint, for the dashboard: the last `limits.samples` samples
// and `limits.actions` actions of each, in the order they were added. Everything added gets the
// next sequence number, so a reader asks for what came after the last one it saw.
class History {
public:
    explicit History(HistoryLimits limits) : limits_(limits) {}

    void add(Sample s);
    void add(ActionRecord a);
    // Forgets the endpoints not in `endpoints` (deleted ones).
    void keep_only(const std::set<int64_t>& endpoints);

    struct Since {
        std::map<int64_t, std::vector<const Sample*>> samples;        // by endpoint, oldest first
        std::map<int64_t, std::vector<const ActionRecord*>> actions;  // by endpoint, oldest first
        uint64_t last = 0;  // the last sequence number handed out: the next call's `since`
    };
    // Every sample and action with a sequence number above `seq`, of the endpoints still kept.
    Since since(uint64_t seq) const;

    std::size_t sample_count(int64_t endpoint_id) const;
    std::size_t action_count(int64_t endpoint_id) const;
    const HistoryLimits& limits() const { return limits_; }

private:
    struct Ring {
        std::deque<Sample> samples;
        std::deque<ActionRecord> actions;
    };
    HistoryLimits limits_;
    std::map<int64_t, Ring> endpoints_;
    uint64_t last_ = 0;
};

std::string_view action_name(Action::Kind kind);

}  // namespace cppworker::engine
