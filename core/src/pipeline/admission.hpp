#pragma once

#include "auth/authenticator.hpp"

#include <optional>
#include <string>

namespace cppworker::pipeline {

// Why a request is turned away once its envelope was read: the status PyWorker answers (with an
// empty body) and the reason for the log. Counted as rejected: the autoscaler hears of it.
struct Refusal {
    unsigned status;
    std::string why;
};

// The signature check, then the queue-time estimate (core/protocol.md §6, §9), in PyWorker's
// order. `signature` is empty when signatures are not checked; `max_queue_time` < 0 is no limit.
std::optional<Refusal> refuse_admission(std::optional<auth::Verdict> signature, double queued_workload, double max_perf,
                                        double max_queue_time);

// Where a request waiting for its route's gate stands after a wake-up.
enum class QueueStep { turn_came, keep_waiting, client_left, timed_out };

// Its turn wins over everything: it holds a slot then. A client that left (or whose session
// closed) wins over a deadline that passed.
QueueStep queue_step(bool turn_came, bool client_gone, bool deadline_passed);

}  // namespace cppworker::pipeline
