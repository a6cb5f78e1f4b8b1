#pragma once

#include "requests/pending_request.hpp"

#include <atomic>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace cppworker::requests {

// Maps the ids handed to the plugin to live requests. An id leaves the map when the plugin
// completes it, so a second completion finds nothing and does no harm.
class RequestRegistry {
public:
    explicit RequestRegistry(std::size_t stream_high_water) : high_water_(stream_high_water) {}

    std::shared_ptr<PendingRequest> create();
    std::shared_ptr<PendingRequest> find(cppw_request_id id) const;
    void forget(cppw_request_id id);
    std::size_t size() const;
    // Shutdown: every live request is cancelled; the plugin may still complete them, harmlessly.
    void cancel_all();

private:
    const std::size_t high_water_;
    std::atomic<cppw_request_id> next_id_{1};
    mutable std::mutex mutex_;
    std::unordered_map<cppw_request_id, std::shared_ptr<PendingRequest>> live_;
};

}  // namespace cppworker::requests
