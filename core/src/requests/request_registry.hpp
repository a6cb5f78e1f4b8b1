#pragma once

#include "requests/pending_request.hpp"

#include <boost/unordered/unordered_flat_map.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>

namespace cppworker::requests {

// Maps the ids handed to the plugin to live requests. An id leaves the map when its owner lets it
// go (pipeline/request_scope.hpp: once the plugin completed it, or when it never reached the
// plugin), so a later call of the plugin's finds nothing and does no harm.
class RequestRegistry {
public:
    explicit RequestRegistry(std::size_t stream_high_water) : high_water_(stream_high_water) {}

    std::shared_ptr<PendingRequest> create();
    std::shared_ptr<PendingRequest> find(cppw_request_id id) const;
    void forget(cppw_request_id id);
    std::size_t size() const;
    // The drain deadline and shutdown: every live request is cancelled (their owners then let them
    // go); the plugin may still complete them, harmlessly.
    void cancel_all();

    // The plugin's release_state hook (ABI 1.3), set once before the first request; absent, the
    // plugin cannot attach state.
    void set_state_release(std::function<void(void*)> release) { release_ = std::move(release); }
    bool releases_state() const { return static_cast<bool>(release_); }
    // A request leaves without reaching `handle`: what was attached to it goes back to the plugin.
    void release_state_of(PendingRequest& request) const;

private:
    const std::size_t high_water_;
    std::atomic<cppw_request_id> next_id_{1};
    mutable std::mutex mutex_;
    // Open addressing: a request's entry takes no node of its own.
    using Live = boost::unordered_flat_map<cppw_request_id, std::shared_ptr<PendingRequest>>;
    Live live_;
    std::function<void(void*)> release_;
};

}  // namespace cppworker::requests
