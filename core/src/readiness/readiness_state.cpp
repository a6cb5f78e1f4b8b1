#include "readiness/readiness_state.hpp"

namespace cppworker::readiness {

void ReadinessState::set_loaded(double max_perf) {
    const double loadtime = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    std::lock_guard lock(mutex_);
    view_.loaded = true;
    view_.loadtime = loadtime;
    view_.max_perf = max_perf;
}

void ReadinessState::set_error(std::string message) {
    std::lock_guard lock(mutex_);
    if (view_.error_msg.empty()) view_.error_msg = std::move(message);
}

ReadinessState::View ReadinessState::view() const {
    std::lock_guard lock(mutex_);
    return view_;
}

bool ReadinessState::ready() const {
    std::lock_guard lock(mutex_);
    return view_.loaded && view_.error_msg.empty();
}

double ReadinessState::max_perf() const {
    std::lock_guard lock(mutex_);
    return view_.max_perf;
}

}  // namespace cppworker::readiness
