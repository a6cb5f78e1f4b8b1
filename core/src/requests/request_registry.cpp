#include "requests/request_registry.hpp"

namespace cppworker::requests {

std::shared_ptr<PendingRequest> RequestRegistry::create() {
    auto r = std::make_shared<PendingRequest>(next_id_.fetch_add(1), high_water_);
    std::lock_guard lock(mutex_);
    live_.emplace(r->id(), r);
    return r;
}

std::shared_ptr<PendingRequest> RequestRegistry::find(cppw_request_id id) const {
    std::lock_guard lock(mutex_);
    const auto it = live_.find(id);
    return it == live_.end() ? nullptr : it->second;
}

void RequestRegistry::forget(cppw_request_id id) {
    std::lock_guard lock(mutex_);
    live_.erase(id);
}

std::size_t RequestRegistry::size() const {
    std::lock_guard lock(mutex_);
    return live_.size();
}

void RequestRegistry::cancel_all() {
    Live live;
    {
        std::lock_guard lock(mutex_);
        live = live_;
    }
    for (auto& [id, request] : live) request->cancel();
}

void RequestRegistry::release_state_of(PendingRequest& request) const {
    if (void* state = request.take_state(); state != nullptr && release_) release_(state);
}

}  // namespace cppworker::requests
