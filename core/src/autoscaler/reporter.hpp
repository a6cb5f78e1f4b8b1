#pragma once

#include "accounting/request_ledger.hpp"
#include "autoscaler/post.hpp"
#include "autoscaler/report.hpp"

#include <boost/asio/awaitable.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace cppworker::autoscaler {

// The backend as a status report describes it.
struct BackendState {
    bool loaded = false;
    double loadtime = 0;  // seconds from start to loaded; 0 until then
    double max_perf = 0;
    std::string error_msg;
};

// What a supervised worker adds to its reports (core/src/supervisor).
struct ReportOptions {
    // How the worker process before this one ended; in error_msg as status_error_msg says.
    std::string previous_crash;
    // Set once an accepted report carried previous_crash; shared with the last report at exit.
    std::shared_ptr<std::atomic<bool>> crash_reported = std::make_shared<std::atomic<bool>>(false);
    // After each accepted status report, with what it carried.
    std::function<void(const accounting::LedgerSnapshot&)> accepted;
};

// PyWorker Gen 3's reporting (core/protocol.md §2.1, §2.2) from the worker's ledger and its
// backend's state: /worker_status/ every second while something changed and at least every 10 s,
// /delete_requests/ every second while requests are retired.
class Reporter {
public:
    Reporter(accounting::RequestLedger& ledger, std::function<BackendState()> backend, WorkerIdentity worker,
             const std::string& report_addr, std::size_t max_undelivered, ReportOptions options);

    // Each runs until the worker stops, on one event loop.
    boost::asio::awaitable<void> report_status();
    boost::asio::awaitable<void> report_deletes();
    // Ends both loops, on their loop: `stopped` runs once neither has a post under way, at once
    // when none has. A post cut off mid-way may have been delivered all the same, and the last
    // reports would then carry its figures a second time.
    void stop_after_posts(std::function<void()> stopped);
    // The last word of a worker that stops: one status report and the pending /delete_requests/,
    // on a loop of its own, within `limit`. Runs after the worker's loops stopped; what it could
    // not deliver stays in the ledger (for the next worker, when supervised).
    void final_reports(std::chrono::milliseconds limit);

private:
    StatusInput status_now(double additional_disk_usage) const;
    void status_accepted(const StatusInput& status) const;
    // Posts a batch of delete entries: one body per outcome, as PyWorker does. True when delivered.
    boost::asio::awaitable<bool> post_deletes(const std::vector<accounting::DeleteEntry>& entries);
    boost::asio::awaitable<void> send_final_reports();
    void post_ended();

    // On the loops' loop: stop_after_posts.
    int posting_ = 0;
    bool stopping_ = false;
    std::function<void()> stopped_;

    accounting::RequestLedger& ledger_;
    const std::function<BackendState()> backend_;
    const WorkerIdentity worker_;
    const std::vector<std::string> addresses_;
    const std::vector<std::string> delete_addresses_;  // PyWorker skips one of them for deletes
    const std::size_t max_undelivered_;
    const ReportOptions options_;
    // Shared by the status and the delete posts (one event loop), then by the last reports: what
    // one learns of an address that is down spares the other its tries.
    Failover failover_;
};

// Bytes used on the filesystem of `/`, for additional_disk_usage.
double disk_used_bytes();

}  // namespace cppworker::autoscaler
