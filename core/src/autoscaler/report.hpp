#pragma once

#include "accounting/request_ledger.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// The bodies PyWorker Gen 3 (worker 1.1.0) posts to the autoscaler (core/protocol.md §2.1, §2.1.4,
// core/protocol.md §2.2), byte for byte as Python's json.dumps prints them: aiohttp's json= uses the defaults,
// separators ", " and ": " and ensure_ascii. Pure functions, so whoever sends them owns the I/O.
// A Python str cannot hold invalid UTF-8, so neither may any string given here: the body builders
// throw std::invalid_argument for it (pyjson::json_string), and text from outside (log lines,
// OS messages) has to be made valid before it becomes an error_msg.
namespace cppworker::autoscaler {

struct WorkerIdentity {
    int64_t id;          // CONTAINER_ID
    std::string mtoken;  // MASTER_TOKEN, "" when unset
    std::string version = "1.1.0";
    std::string url;     // worker_url()
};

// PyWorker's get_url(): `s` iff USE_SSL is exactly "true"; the port is VAST_TCP_PORT_<WORKER_PORT>,
// the one the outside world reaches, not the one we listen on.
std::string worker_url(bool use_ssl, std::string_view public_ip, std::string_view external_port);

// What one /worker_status/ report says besides the worker's identity.
struct StatusInput {
    double loadtime = 0;  // seconds to "model loaded"; 0 until then
    std::string error_msg;
    double max_perf = 0;  // benchmark result; 0 until loaded
    double additional_disk_usage = 0;  // GiB grown on / since the previous send attempt
    accounting::LedgerSnapshot ledger;
};

// error_msg of a status report: the worker's own error if it has one; otherwise, when the worker
// process before this one crashed (`previous_crash`, from the supervisor), that crash, until this
// worker is loaded and at least one accepted report has carried it, so that the autoscaler hears
// of it however fast the new worker comes up.
std::string status_error_msg(const std::string& own_error, bool loaded, const std::string& previous_crash,
                             bool crash_reported);

// The 17 fields of core/protocol.md §2.1 in PyWorker's order.
std::string worker_status_body(const WorkerIdentity& worker, const StatusInput& status);

std::string delete_requests_body(int64_t worker_id, std::string_view mtoken, const std::vector<int64_t>& request_idxs,
                                 bool success);

// PyWorker sends one /delete_requests/ per outcome: (successful idxs, failed idxs), order kept.
std::pair<std::vector<int64_t>, std::vector<int64_t>> split_deletes(const std::vector<accounting::DeleteEntry>& entries);

// The minimal /worker_status/ of start_server.sh's report_error_and_exit (core/protocol.md §2.1.4), for failures
// before the worker can report normally.
std::string startup_error_body(int64_t id, std::string_view mtoken, std::string_view version,
                               std::string_view error_msg, std::string_view url);

// REPORT_ADDR as a fail-over list for /worker_status/ and /delete_requests/.
std::vector<std::string> split_report_addrs(std::string_view report_addr);

// PyWorker skips this address (its "Redis API") for /delete_requests/ only, never for
// /worker_status/.
bool skip_for_deletes(std::string_view addr);

}  // namespace cppworker::autoscaler
