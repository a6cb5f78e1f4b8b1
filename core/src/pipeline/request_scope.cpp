#include "pipeline/request_scope.hpp"

namespace cppworker::pipeline {

RequestScope::RequestScope(Parts parts, uint32_t route_index, const unsigned& written_status)
    : parts_(parts), route_index_(route_index), written_status_(written_status), pending_(parts.registry.create()) {}

RequestScope::~RequestScope() {
    if (started_unfinished_) {
        // Left without an outcome (an exception, a client gone, the drain deadline): the plugin
        // is told, if it has it.
        pending_->cancel();
        finish(accounting::Outcome::cancel);
    }
    release_slot();
    if (pending_->withdraw_unhandled()) {
        parts_.registry.release_state_of(*pending_);
        parts_.registry.forget(pending_->id());
    }
    pending_->set_notifier(std::nullopt);
    if (parts_.metrics) {
        parts_.metrics->observe(route_index_, written_status_,
                                std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count());
    }
}

void RequestScope::reject(std::optional<accounting::RequestIdentity> who, double workload, bool tracked) {
    if (parts_.ledger) parts_.ledger->reject(who, workload, tracked);
}

void RequestScope::refuse_invalid() {
    if (parts_.ledger) parts_.ledger->invalid();
}

void RequestScope::start(std::optional<accounting::RequestIdentity> who, double workload, bool tracked) {
    started_unfinished_ = true;
    if (parts_.ledger) ledger_handle_ = parts_.ledger->start(who, workload, tracked);
}

void RequestScope::hold(accounting::ConcurrencyGate& gate) { slot_ = &gate; }

void RequestScope::hand_to_plugin() {
    // The registry outlives every request; the plugin may complete this one from any thread.
    pending_->on_completed([&registry = parts_.registry, id = pending_->id()] { registry.forget(id); });
}

void RequestScope::finish(accounting::Outcome outcome) {
    started_unfinished_ = false;
    release_slot();
    if (ledger_handle_) parts_.ledger->finish(*std::exchange(ledger_handle_, std::nullopt), outcome);
}

void RequestScope::release_slot() {
    if (slot_) std::exchange(slot_, nullptr)->exit();
}

}  // namespace cppworker::pipeline
