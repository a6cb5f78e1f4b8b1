#pragma once

#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cppworker::engine {

// A worker's state as the engine sees it, from its reports alone and what the engine asked of it
// (../shared/protocol.md §13.2 names Vast's; `lost` is the engine's own: a worker gone silent).
enum class WorkerState {
    loading,        // started, no report yet (Vast: docker pull and run)
    model_loading,  // reporting, not loaded yet
    ready,          // loaded, benchmarked, no error: routes go to it
    errored,        // reported an error, or never became ready in time
    lost,           // silent for longer than its reports allow
    stopping,       // asked to stop; drains its requests
    stopped,        // its process ended; its folder (model, benchmark) kept: it starts faster
};

// As get_endpoint_workers and the log name it.
std::string_view state_name(WorkerState s);

// What one /worker_status/ says (../shared/protocol.md §2.1).
struct StatusReport {
    double loadtime = 0;
    double cur_load = 0;
    double new_load = 0;
    double rej_load = 0;
    double cur_perf = 0;
    double max_perf = 0;
    std::string error_msg;
    int64_t num_requests_working = 0;
    std::vector<int64_t> working_request_idxs;
    std::string url;
};

// Reads a /worker_status/ body; an error names the field. id and mtoken are read by the caller.
std::optional<std::string> read_report(const boost::json::object& body, StatusReport& report);

struct Worker {
    int64_t id = 0;
    int64_t workergroup_id = 0;
    int64_t endpoint_id = 0;
    std::string mtoken;
    std::string url;  // where clients reach it: from its reports
    WorkerState state = WorkerState::loading;
    std::string error;       // errored and lost: why
    double created_at = 0;   // epoch seconds
    double started_at = 0;   // its process, this time
    double state_since = 0;  // when it entered `state`
    double loaded_at = 0;    // 0 until loaded
    double last_report_at = 0;
    std::optional<StatusReport> last;
    double assigned_since_report = 0;  // cost routed to it since its last report
    double served_rate = 0;  // load units/s it served between its last two reports (cur_perf is their sum)
    int64_t next_reqnum = 1;
    bool has_model = false;  // loaded once: a restart finds its benchmark and model in its folder
};

// Timing rules for a worker's life.
struct Lifetimes {
    double lost_after = 30;     // s without a report (a worker reports at least every 10 s)
    double ready_within = 600;  // s from start to loaded; else errored
};

// The worker's state after a report at `now` (seconds): ready once loaded with a benchmark and no
// error, errored on an error, model_loading before. A stopping or stopped worker stays so.
void apply_report(Worker& w, StatusReport report, double now);

// The worker's state after time passed: lost when silent too long, errored when it has not
// become ready in time. Returns whether it changed.
bool check_time(Worker& w, const Lifetimes& limits, double now);

// The worker as get_endpoint_workers lists it (../shared/protocol.md §3).
boost::json::object worker_json(const Worker& w);

}  // namespace cppworker::engine
