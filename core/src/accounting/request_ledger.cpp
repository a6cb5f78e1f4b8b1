#include "accounting/request_ledger.hpp"

#include <utility>

namespace cppworker::accounting {

void RequestLedger::count_received(const std::optional<RequestIdentity>& who) {
    if (who) received_reqnums_.insert(who->reqnum);
}

uint64_t RequestLedger::start(std::optional<RequestIdentity> who, double workload, bool tracked) {
    std::lock_guard lock(mutex_);
    interval_.received += workload;
    totals_.workload_received += workload;
    ++totals_.started;
    if (tracked) count_received(who);
    const uint64_t handle = next_handle_++;
    working_.emplace(handle, Working{who, workload, tracked, false});
    return handle;
}

void RequestLedger::finish(uint64_t handle, Outcome outcome) {
    std::lock_guard lock(mutex_);
    const auto it = working_.find(handle);
    if (it == working_.end()) return;
    const Working w = it->second;
    working_.erase(it);
    switch (outcome) {
    case Outcome::success:
        interval_.served += w.workload;
        totals_.workload_served += w.workload;
        ++totals_.succeeded;
        break;
    case Outcome::error:
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
    if (w.tracked && w.who) deletes_.push_back(DeleteEntry{w.who->request_idx, outcome != Outcome::error});
}

void RequestLedger::reject(std::optional<RequestIdentity> who, double workload, bool tracked) {
    std::lock_guard lock(mutex_);
    interval_.rejected += workload;
    totals_.workload_rejected += workload;
    ++totals_.rejected;
    if (tracked) {
        count_received(who);
        if (who) deletes_.push_back(DeleteEntry{who->request_idx, false});
    }
}

double RequestLedger::queued_workload() const {
    std::lock_guard lock(mutex_);
    double sum = 0;
    for (const auto& [handle, w] : working_) {
        if (w.tracked && !w.session) sum += w.workload;
    }
    return sum;
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
    s.num_received_ever = received_reqnums_.size();
    return s;
}

LedgerTotals RequestLedger::totals() const {
    std::lock_guard lock(mutex_);
    return totals_;
}

void RequestLedger::reset_interval() {
    std::lock_guard lock(mutex_);
    interval_ = LedgerSnapshot{};
}

std::vector<DeleteEntry> RequestLedger::take_deletes() {
    std::lock_guard lock(mutex_);
    return std::exchange(deletes_, {});
}

uint64_t RequestLedger::open_session(std::optional<RequestIdentity> who, double cost) {
    std::lock_guard lock(mutex_);
    interval_.received += cost;
    totals_.workload_received += cost;
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
    if (w.who) deletes_.push_back(DeleteEntry{w.who->request_idx, true});
}

}  // namespace cppworker::accounting
