#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

namespace cppworker::accounting {

// Who a request is to the autoscaler: the numbers from its auth_data. Requests that came without
// auth_data (UNSECURED, local use) have none and are invisible to the autoscaler's bookkeeping,
// though their workload still counts.
struct RequestIdentity {
    int64_t reqnum;
    int64_t request_idx;
};

// Interval sums since the last accepted status report, plus what is in flight now.
struct LedgerSnapshot {
    double received = 0;   // new_load before cancellations
    double served = 0;     // cur_perf
    double cancelled = 0;
    double errored = 0;
    double rejected = 0;   // rej_load
    double in_flight = 0;  // cur_load: working requests and open sessions
    std::size_t num_working = 0;
    std::size_t num_received_ever = 0;
    std::vector<int64_t> working_request_idxs;
};

// Everything since start, for Prometheus (counters never go down), and what is held now.
struct LedgerTotals {
    uint64_t started = 0, succeeded = 0, errored = 0, cancelled = 0, rejected = 0;
    // Refused before admission as malformed (422) or naming no open session (410). PyWorker counts
    // neither, so no report carries it: /metrics only.
    uint64_t invalid = 0;
    uint64_t undelivered_dropped = 0;  // delete entries given up past the cap, oldest first
    std::size_t working = 0;           // requests and sessions started and not finished
    std::size_t undelivered = 0;       // delete entries waiting for the autoscaler
    double workload_received = 0, workload_served = 0, workload_cancelled = 0, workload_errored = 0,
           workload_rejected = 0;
};

struct DeleteEntry {
    int64_t request_idx;
    bool success;  // true for served and cancelled, false for errored and rejected (PyWorker's rule)
};

enum class Outcome { success, error, cancel };

// PyWorker Gen 3's request accounting (core/protocol.md §9), one instance per worker, thread-safe.
// A request is started once, then finished once with its outcome; or rejected instead of started.
// Nothing is kept of a finished request but its delete entry, and that only while an autoscaler
// is there to take it (`max_undelivered` > 0), up to that many: past it the oldest are dropped.
// Unlike PyWorker, two live requests that share a reqnum are both counted (PyWorker keys its
// working set by reqnum, so one hides the other and cur_load comes out short).
class RequestLedger {
public:
    explicit RequestLedger(std::size_t max_undelivered) : max_undelivered_(max_undelivered) {}

    // After admission. `tracked`: false for requests inside a session, which count in the
    // workload sums but not in the working set, the received set or the delete queue.
    // Returns a handle for finish().
    uint64_t start(std::optional<RequestIdentity> who, double workload, bool tracked);
    void finish(uint64_t handle, Outcome outcome);
    void reject(std::optional<RequestIdentity> who, double workload, bool tracked = true);
    // Refused before admission: an invalid envelope or payload, or an unknown session (see
    // LedgerTotals::invalid). Touches none of the reported figures.
    void invalid();

    // Σ workload of working requests that are not sessions: what a new request queues behind.
    double queued_workload() const;

    LedgerSnapshot snapshot() const;
    LedgerTotals totals() const;
    // After a status report was accepted: take what it carried off the interval sums. What arrived
    // while it was in flight stays for the next report, so nothing is lost (PyWorker zeroes).
    void consume_interval(const LedgerSnapshot& reported);
    // A supervised worker continues the figures of the one it replaced (core/src/supervisor): the
    // received count goes on from there, and interval sums no report carried are reported here.
    // Counts as a change, so the next report goes out soon.
    void carry_over(std::size_t received_ever, const LedgerSnapshot& unreported);
    // Counts start, success, error and reject events: PyWorker reports soon after any of them
    // ("update_pending"), but not after a cancel.
    uint64_t generation() const;

    // At most `n` entries waiting for /delete_requests/, oldest first; they stay until dropped.
    // `first` numbers the first of them, so that entries the cap dropped meanwhile are no
    // confusion to drop_deletes.
    struct DeleteBatch {
        uint64_t first = 0;
        std::vector<DeleteEntry> entries;
    };
    DeleteBatch pending_deletes(std::size_t n = SIZE_MAX) const;
    // A batch was delivered: it leaves, and with it anything older.
    void drop_deletes(const DeleteBatch& delivered);

    // Sessions are metered as one working request each (workload = the route cost).
    uint64_t open_session(std::optional<RequestIdentity> who, double cost);
    void close_session(uint64_t handle);

private:
    struct Working {
        std::optional<RequestIdentity> who;
        double workload;
        bool tracked;
        bool session;
    };
    void count_received(const std::optional<RequestIdentity>& who);
    void queue_delete(DeleteEntry entry);

    mutable std::mutex mutex_;
    uint64_t next_handle_ = 1;
    std::map<uint64_t, Working> working_;
    std::size_t received_ = 0;
    const std::size_t max_undelivered_;
    // Packed to 8 bytes each, the outcome in the lowest bit, so that a million ids waiting out an
    // autoscaler outage cost 8 MB. request_idx values are the autoscaler's counters: they never
    // need the top bit this gives up.
    std::deque<uint64_t> deletes_;
    uint64_t first_delete_ = 0;  // the number of deletes_.front(), counting every entry ever queued
    LedgerSnapshot interval_;
    LedgerTotals totals_;
    uint64_t generation_ = 0;
    // Σ workload of tracked, non-session working requests, kept as they come and go so admission
    // does not walk the working set.
    double queued_ = 0;
};

}  // namespace cppworker::accounting
