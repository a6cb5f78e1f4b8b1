#include "http/connection_tracker.hpp"

#include <spdlog/spdlog.h>

#include <utility>
#include <vector>

namespace cppworker::http {

ConnectionTracker::Ticket::Ticket(ConnectionTracker& tracker) : tracker_(&tracker) {
    std::lock_guard lock(tracker.mutex_);
    ++tracker.unopened_;
}

ConnectionTracker::Ticket::Ticket(Ticket&& other) noexcept : tracker_(std::exchange(other.tracker_, nullptr)) {}

ConnectionTracker::Ticket::~Ticket() {
    if (tracker_) tracker_->unopened_gone();
}

ConnectionTracker::Guard::Guard(Guard&& other) noexcept
    : tracker_(std::exchange(other.tracker_, nullptr)), id_(other.id_) {}

ConnectionTracker::Guard::~Guard() {
    if (tracker_) tracker_->closed(id_);
}

std::function<void()> ConnectionTracker::take_on_drained_locked() {
    // Last one out: background work (key fetch, session expiry, callbacks) ends with the loops.
    if (!draining_ || !open_.empty() || unopened_ > 0) return nullptr;
    return std::exchange(on_drained_, nullptr);
}

std::optional<ConnectionTracker::Guard> ConnectionTracker::open(Ticket ticket, Control control) {
    std::function<void()> drained;
    std::optional<logging::RepeatedFailure::Line> line;
    {
        std::lock_guard lock(mutex_);
        ticket.tracker_ = nullptr;
        --unopened_;
        if (open_.size() < max_connections_) {
            const auto id = next_id_++;
            open_.emplace(id, std::move(control));
            return Guard(*this, id);
        }
        ++refused_;
        line = refused_log_.failed("accept", std::chrono::steady_clock::now());
        drained = take_on_drained_locked();
    }
    if (line) {
        spdlog::warn("{} connection(s) refused with 503: --max-connections {} are open", line->failures,
                     max_connections_);
    }
    if (drained) drained();
    return std::nullopt;
}

void ConnectionTracker::unopened_gone() {
    std::function<void()> drained;
    {
        std::lock_guard lock(mutex_);
        --unopened_;
        drained = take_on_drained_locked();
    }
    if (drained) drained();
}

void ConnectionTracker::closed(uint64_t id) {
    std::function<void()> drained;
    {
        std::lock_guard lock(mutex_);
        open_.erase(id);
        drained = take_on_drained_locked();
    }
    if (drained) drained();
}

std::size_t ConnectionTracker::open_count() const {
    std::lock_guard lock(mutex_);
    return open_.size();
}

std::vector<ConnectionTracker::Control> ConnectionTracker::controls_locked() const {
    std::vector<Control> controls;
    controls.reserve(open_.size());
    for (const auto& [id, control] : open_) controls.push_back(control);
    return controls;
}

std::optional<std::size_t> ConnectionTracker::begin_drain(std::function<void()> on_drained) {
    std::vector<Control> controls;
    {
        std::lock_guard lock(mutex_);
        if (draining_.exchange(true)) return std::nullopt;
        on_drained_ = std::move(on_drained);
        controls = controls_locked();
    }
    for (auto& control : controls) control(DrainStep::begin);
    return controls.size();
}

void ConnectionTracker::check_drained() {
    std::function<void()> drained;
    {
        std::lock_guard lock(mutex_);
        drained = take_on_drained_locked();
    }
    if (drained) drained();
}

std::size_t ConnectionTracker::cancel_all() {
    std::vector<Control> controls;
    {
        std::lock_guard lock(mutex_);
        controls = controls_locked();
    }
    for (auto& control : controls) control(DrainStep::deadline);
    return controls.size();
}

}  // namespace cppworker::http
