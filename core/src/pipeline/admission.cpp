#include "pipeline/admission.hpp"

#include "accounting/admission.hpp"

namespace cppworker::pipeline {

std::optional<Refusal> refuse_admission(std::optional<auth::Verdict> signature, double queued_workload, double max_perf,
                                        double max_queue_time) {
    if (signature && *signature != auth::Verdict::accepted) return Refusal{401, auth::to_string(*signature)};
    if (accounting::over_queue_limit(queued_workload, max_perf, max_queue_time)) {
        return Refusal{429, "queue estimate over max_queue_time"};
    }
    return std::nullopt;
}

QueueStep queue_step(bool turn_came, bool client_gone, bool deadline_passed) {
    if (turn_came) return QueueStep::turn_came;
    if (client_gone) return QueueStep::client_left;
    if (deadline_passed) return QueueStep::timed_out;
    return QueueStep::keep_waiting;
}

}  // namespace cppworker::pipeline
