#include "accounting/request_ledger.hpp"

#include <algorithm>

namespace cppworker::accounting {

void RequestLedger::count_received(const std::optional<RequestIdentity>& who) {
    if (who) ++received_;
}

namespace {
uint64_t pack(DeleteEntry e) { return static_cast<uint64_t>(e.request_idx) << 1 | (e.success ? 1u : 0u); }
DeleteEntry unpack(uint64_t v) { return DeleteEntry{static_cast<int64_t>(v) >> 1, (v & 1u) != 0}; }
}  // namespace

void RequestLedger::queue_delete(DeleteEntry entry) {
    if (max_undelivered_ == 0) return;
    if (deletes_.size() == max_undelivered_) {
        deletes_.pop_front();
        ++first_delete_;
        ++totals_.undelivered_dropped;
    }
    deletes_.push_back(pack(entry));
}

uint64_t RequestLedger::start(std::optional<RequestIdentity> who, double workload, bool tracked) {
    std::lock_guard lock(mutex_);
    interval_.received += workload;
    totals_.workload_received += workload;
    ++totals_.started;
    ++generation_;
    if (tracked) count_received(who);
    const uint64_t handle = next_handle_++;
    working_.emplace(handle, Working{who, workload, tracked, false});
    if (tracked) queued_ += workload;
    return handle;
}

void RequestLedger::finish(uint64_t handle, Outcome outcome) {
    std::lock_guard lock(mutex_);
    const auto it = working_.find(handle);
    if (it == working_.end()) return;
    const Working w = it->second;
    working_.erase(it);
    if (w.tracked) queued_ = working_.empty() ? 0 : queued_ - w.workload;
    switch (outcome) {
    case Outcome::success:
        ++generation_;
        interval_.served += w.workload;
        totals_.workload_served += w.workload;
        ++totals_.succeeded;
        break;
    case Outcome::error:
        ++generation_;
        interval_.errored += w.workload;
        totals_.workload_errored += w.workload;
        ++totals_.errored;
        break;
    case Outcome::cancel:
        interval_.cancelled += w.workload;
        totals_.workload_cancelled += w.workload;
        ++totals_.cancelled;
        break;
    }
    if (w.tracked && w.who) queue_delete(DeleteEntry{w.who->request_idx, outcome != Outcome::error});
}

void RequestLedger::reject(std::optional<RequestIdentity> who, double workload, bool tracked) {
    std::lock_guard lock(mutex_);
    interval_.rejected += workload;
    totals_.workload_rejected += workload;
    ++totals_.rejected;
    ++generation_;
    if (tracked) {
        count_received(who);
        if (who) queue_delete(DeleteEntry{who->request_idx, false});
    }
}

void RequestLedger::invalid() {
    std::lock_guard lock(mutex_);
    ++totals_.invalid;
}

double RequestLedger::queued_workload() const {
    std::lock_guard lock(mutex_);
    return queued_;
}

LedgerSnapshot RequestLedger::snapshot() const {
    std::lock_guard lock(mutex_);
    LedgerSnapshot s = interval_;
    s.in_flight = 0;
    s.num_working = 0;
    s.working_request_idxs.clear();
    for (const auto& [handle, w] : working_) {
        if (!w.tracked) continue;
        s.in_flight += w.workload;
        ++s.num_working;
        if (w.who) s.working_request_idxs.push_back(w.who->request_idx);
    }
    s.num_received_ever = received_;
    return s;
}

LedgerTotals RequestLedger::totals() const {
    std::lock_guard lock(mutex_);
    LedgerTotals t = totals_;
    t.working = working_.size();
    t.undelivered = deletes_.size();
    return t;
}

void RequestLedger::consume_interval(const LedgerSnapshot& reported) {
    std::lock_guard lock(mutex_);
    interval_.received -= reported.received;
    interval_.served -= reported.served;
    interval_.cancelled -= reported.cancelled;
    interval_.errored -= reported.errored;
    interval_.rejected -= reported.rejected;
}

void RequestLedger::carry_over(std::size_t received_ever, const LedgerSnapshot& unreported) {
    std::lock_guard lock(mutex_);
    received_ += received_ever;
    interval_.received += unreported.received;
    interval_.served += unreported.served;
    interval_.cancelled += unreported.cancelled;
    interval_.errored += unreported.errored;
    interval_.rejected += unreported.rejected;
    ++generation_;
}

uint64_t RequestLedger::generation() const {
    std::lock_guard lock(mutex_);
    return generation_;
}

RequestLedger::DeleteBatch RequestLedger::pending_deletes(std::size_t n) const {
    std::lock_guard lock(mutex_);
    DeleteBatch batch{first_delete_, {}};
    batch.entries.reserve(std::min(n, deletes_.size()));
    for (auto it = deletes_.begin(); it != deletes_.end() && batch.entries.size() < n; ++it) {
        batch.entries.push_back(unpack(*it));
    }
    return batch;
}

void RequestLedger::drop_deletes(const DeleteBatch& delivered) {
    std::lock_guard lock(mutex_);
    const uint64_t end = delivered.first + delivered.entries.size();
    if (end <= first_delete_) return;
    const auto n = static_cast<std::size_t>(std::min<uint64_t>(end - first_delete_, deletes_.size()));
    deletes_.erase(deletes_.begin(), deletes_.begin() + static_cast<std::ptrdiff_t>(n));
    first_delete_ += n;
}

uint64_t RequestLedger::open_session(std::optional<RequestIdentity> who, double cost) {
    std::lock_guard lock(mutex_);
    interval_.received += cost;
    totals_.workload_received += cost;
    ++generation_;
    count_received(who);
    const uint64_t handle = next_handle_++;
    working_.emplace(handle, Working{who, cost, true, true});
    return handle;
}

void RequestLedger::close_session(uint64_t handle) {
    std::lock_guard lock(mutex_);
    const auto it = working_.find(handle);
    if (it == working_.end()) return;
    const Working w = it->second;
    working_.erase(it);
    interval_.served += w.workload;
    totals_.workload_served += w.workload;
    ++generation_;
    if (w.who) queue_delete(DeleteEntry{w.who->request_idx, true});
}

}  // namespace cppworker::accounting
