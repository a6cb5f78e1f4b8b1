#pragma once

#include "accounting/concurrency_gate.hpp"
#include "accounting/request_ledger.hpp"
#include "metrics/route_metrics.hpp"
#include "requests/request_registry.hpp"

#include <chrono>
#include <memory>
#include <optional>

namespace cppworker::pipeline {

// The one owner of a request to a plugin route: nothing else removes it from the registry,
// releases what the plugin attached to it, frees its queue slot or records how it ended.
// - Its registry entry goes when the scope ends, unless the plugin's `handle` ran for it: then
//   when the plugin completes it (answered, stream ended, refused), however long after.
// - What `workload` attached goes back to the plugin if the request never reaches `handle`: one
//   handed to the plugin but given up while it waited for a blocking-pool thread is withdrawn
//   when the scope ends, and `handle` is never called for it (PendingRequest::begin_handle).
// - Its ledger entry is finished as cancelled unless finish() said otherwise.
// - The slot of its route's gate is freed at finish() or with the scope, never later.
// - Its route metrics sample: the status last written to the client, and the time taken.
// Without a ledger and metrics (Parts), the request is the worker's own (the benchmark): the
// autoscaler and /metrics never hear of it. Used on the request's event loop only.
class RequestScope {
public:
    struct Parts {
        requests::RequestRegistry& registry;
        accounting::RequestLedger* ledger;
        metrics::RouteMetrics* metrics;
    };
    // `written_status` is read when the scope ends: the status of the answer written to the client
    // (RouteMetrics::client_closed for none).
    RequestScope(Parts parts, uint32_t route_index, const unsigned& written_status);
    ~RequestScope();
    RequestScope(const RequestScope&) = delete;
    RequestScope& operator=(const RequestScope&) = delete;

    const std::shared_ptr<requests::PendingRequest>& pending() const { return pending_; }

    // Turned away before it started (401, 429): counted as rejected.
    void reject(std::optional<accounting::RequestIdentity> who, double workload, bool tracked);
    // Turned away before admission as malformed (422) or for a session that is not open (410).
    void refuse_invalid();
    // Admitted: its workload is in flight from now on.
    void start(std::optional<accounting::RequestIdentity> who, double workload, bool tracked);
    // Holds a slot of `gate` (entered, and its turn came).
    void hold(accounting::ConcurrencyGate& gate);
    // The plugin's handle hook gets it now, or, on a blocking route, once a pool thread is free:
    // from then on the plugin completes it, whatever happens here, unless it was given up before
    // `handle` began.
    void hand_to_plugin();
    // How it ended is known (the answer is complete, failed, or its client gone): the ledger
    // learns it and the slot is freed. Only the first call counts.
    void finish(accounting::Outcome outcome);

private:
    void release_slot();

    Parts parts_;
    uint32_t route_index_;
    const unsigned& written_status_;
    std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
    std::shared_ptr<requests::PendingRequest> pending_;
    bool started_unfinished_ = false;
    std::optional<uint64_t> ledger_handle_;
    accounting::ConcurrencyGate* slot_ = nullptr;
};

}  // namespace cppworker::pipeline
