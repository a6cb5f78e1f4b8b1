#pragma once

#include "requests/pending_request.hpp"

#include <cppworker/plugin.h>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

namespace cppworker::plugin {

// The timer_start host service (ABI 1.4): a plugin's callback, `delay` after it asked, on the
// event loop of the request it named, with no thread held meanwhile. Each timer calls back once:
// CPPW_OK when it fell due with its request open, CPPW_CANCELLED as soon as the request is given
// up (client gone, deadline, session closed, shutdown); or never, when the request was completed
// first. Whether and how it calls back is decided on the loop as the callback is about to run, so
// it never starts after the completion; it runs from the loop's own queue, never inside a host
// service, and one request's callbacks share its loop, one at a time. Thread-safe.
class TimerService {
public:
    explicit TimerService(std::string plugin_name);
    ~TimerService();
    TimerService(const TimerService&) = delete;
    TimerService& operator=(const TimerService&) = delete;

    // For a request handed to the plugin (it has a loop). CPPW_OK, CPPW_WRONG_STATE when the
    // request has no loop yet, or CPPW_CANCELLED once abandon_all ran.
    cppw_status start(const std::shared_ptr<requests::PendingRequest>& request, std::chrono::milliseconds delay,
                      cppw_timer_fn callback, void* user);
    // Shutdown, once the event loops have stopped (so no callback runs anywhere else): every timer
    // still waiting calls back now, on the calling thread, with CPPW_CANCELLED (or is dropped if
    // its request was completed), so none is owed when the plugin is finalized; timers asked for
    // from now on are refused with CPPW_CANCELLED.
    void abandon_all();
    // Timers waiting to call back, for /metrics.
    std::size_t pending() const;

    struct Shared;
    struct Timer;

private:
    std::shared_ptr<Shared> shared_;
};

}  // namespace cppworker::plugin
