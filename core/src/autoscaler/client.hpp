#pragma once

#include "autoscaler/report.hpp"
#include "logging/repeated_failure.hpp"
#include "server/server_state.hpp"

#include <boost/asio/awaitable.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace cppworker::autoscaler {

// POSTs `body` to `path` of the first address that takes it: 3 tries per address, 10 s each, 2 s
// apart (core/protocol.md §2.1). True when one answered below 400. Failures are logged through
// `failures`: the first at once, then a summary a minute per address and path, then the recovery.
boost::asio::awaitable<bool> post_with_failover(const std::vector<std::string>& addresses, const std::string& path,
                                                const std::string& body, logging::RepeatedFailure& failures);

// What a supervised worker adds to its reports (core/src/supervisor).
struct ReportOptions {
    // How the worker process before this one ended; in error_msg as status_error_msg says.
    std::string previous_crash;
    // Set once an accepted report carried previous_crash; shared with the last report at exit.
    std::shared_ptr<std::atomic<bool>> crash_reported = std::make_shared<std::atomic<bool>>(false);
    // After each accepted status report, with what it carried.
    std::function<void(const accounting::LedgerSnapshot&)> accepted;
};

// PyWorker Gen 3's reporting (core/protocol.md §2.1, §2.2): /worker_status/ every second while something changed
// and at least every 10 s, /delete_requests/ every second while requests are retired. Runs until
// the worker stops.
boost::asio::awaitable<void> report_status(server::ServerState& s, WorkerIdentity worker, ReportOptions options = {});
boost::asio::awaitable<void> report_deletes(server::ServerState& s, WorkerIdentity worker);

// The last word of a worker that hands its reporting to another (core/src/supervisor): one status
// report and the pending /delete_requests/, on a loop of its own, within `limit`. Runs after the
// server's loops stopped; what it could not deliver stays in the ledger for the next worker.
void final_reports(server::ServerState& s, const WorkerIdentity& worker, const ReportOptions& options,
                   std::chrono::milliseconds limit);

// The start-up error beacon (core/protocol.md §2.1.4): one try per REPORT_ADDR address, on a loop of its own, before
// the worker exits. Does nothing when standalone.
void report_startup_error(const config::Config& c, const std::string& message);

// Who this worker is in reports, from CONTAINER_ID, MASTER_TOKEN and the public address.
WorkerIdentity identity_of(const config::Config& c);

// Bytes used on the filesystem of `/`, for additional_disk_usage.
double disk_used_bytes();

}  // namespace cppworker::autoscaler
