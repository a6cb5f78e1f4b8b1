#include "plugin/timer_service.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <spdlog/spdlog.h>

#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

namespace cppworker::plugin {

namespace asio = boost::asio;

struct TimerService::Timer {
    Timer(uint64_t i, std::shared_ptr<requests::PendingRequest> r, const asio::any_io_executor& loop, cppw_timer_fn c,
          void* u)
        : id(i), request(std::move(r)), clock(loop), callback(c), user(u) {}
    const uint64_t id;
    const std::shared_ptr<requests::PendingRequest> request;
    asio::steady_timer clock;  // used on the request's loop only
    const cppw_timer_fn callback;
    void* const user;
    uint64_t watch = 0;  // its finish listener on the request; under Shared::mutex
};

struct TimerService::Shared {
    explicit Shared(std::string name) : plugin_name(std::move(name)) {}
    const std::string plugin_name;
    mutable std::mutex mutex;
    std::unordered_map<uint64_t, std::shared_ptr<Timer>> live;  // waiting to call back
    uint64_t next_id = 1;
    bool stopped = false;

    // Takes `timer` out of the waiting ones, with the key of its finish listener (0: none);
    // false when it called back already, or was abandoned.
    bool claim(const Timer& timer, uint64_t& watch) {
        std::lock_guard lock(mutex);
        const auto it = live.find(timer.id);
        if (it == live.end()) return false;
        watch = timer.watch;
        live.erase(it);
        return true;
    }
};

namespace {

using Timer = TimerService::Timer;
using Shared = TimerService::Shared;

// Decided as it is about to run, on the thread that runs it: a completed request is never called
// back for, and a given-up one (every one, at shutdown) is told so.
void call_back(const Shared& shared, const Timer& timer, bool shutting_down) {
    const auto& request = *timer.request;
    if (request.completed()) {
        spdlog::debug("[{}] request {}: completed before its timer called back; the timer is dropped",
                      shared.plugin_name, request.id());
        return;
    }
    try {
        timer.callback(timer.user, request.id(), shutting_down || request.cancelled() ? CPPW_CANCELLED : CPPW_OK);
    } catch (...) {
        spdlog::warn("[{}] request {}: a timer callback let an exception cross the C ABI; it is dropped",
                     shared.plugin_name, request.id());
    }
}

// On the request's loop: the timer fell due, or its request was given up or completed.
void fire(const std::weak_ptr<Shared>& weak_shared, const std::shared_ptr<Timer>& timer) {
    const auto shared = weak_shared.lock();
    uint64_t watch = 0;
    if (!shared || !shared->claim(*timer, watch)) return;
    if (watch != 0) timer->request->unwatch_finish(watch);
    call_back(*shared, *timer, false);
}

}  // namespace

TimerService::TimerService(std::string plugin_name) : shared_(std::make_shared<Shared>(std::move(plugin_name))) {}

TimerService::~TimerService() {
    std::unordered_map<uint64_t, std::shared_ptr<Timer>> left;
    std::lock_guard lock(shared_->mutex);
    left.swap(shared_->live);
}

cppw_status TimerService::start(const std::shared_ptr<requests::PendingRequest>& request,
                                std::chrono::milliseconds delay, cppw_timer_fn callback, void* user) {
    const auto loop = request->loop();
    if (!loop) return CPPW_WRONG_STATE;
    const auto due = std::chrono::steady_clock::now() + delay;
    std::shared_ptr<Timer> timer;
    {
        std::lock_guard lock(shared_->mutex);
        if (shared_->stopped) return CPPW_CANCELLED;
        timer = std::make_shared<Timer>(shared_->next_id++, request, *loop, callback, user);
        shared_->live.emplace(timer->id, timer);
    }
    const std::weak_ptr<Timer> weak = timer;
    const std::weak_ptr<Shared> weak_shared = shared_;
    asio::post(*loop, [weak_shared, weak, due] {
        const auto t = weak.lock();
        if (!t) return;
        // Finished before it was armed (the cut below may have run first): it calls back now.
        if (t->request->cancelled() || t->request->completed()) return fire(weak_shared, t);
        t->clock.expires_at(due);
        t->clock.async_wait([weak_shared, weak](const boost::system::error_code&) {
            if (const auto armed = weak.lock()) fire(weak_shared, armed);
        });
    });
    // The request given up or completed: the wait ends at once, on the loop.
    const auto cut = [weak, loop = *loop] {
        asio::post(loop, [weak] {
            if (const auto t = weak.lock()) t->clock.cancel();
        });
    };
    const uint64_t watch = request->watch_finish(cut);
    if (watch == 0) {
        cut();
        return CPPW_OK;
    }
    bool called_back;
    {
        std::lock_guard lock(shared_->mutex);
        called_back = !shared_->live.contains(timer->id);
        if (!called_back) timer->watch = watch;
    }
    if (called_back) request->unwatch_finish(watch);
    return CPPW_OK;
}

void TimerService::abandon_all() {
    std::vector<std::pair<std::shared_ptr<Timer>, uint64_t>> left;
    {
        std::lock_guard lock(shared_->mutex);
        shared_->stopped = true;
        for (auto& [id, timer] : shared_->live) {
            const uint64_t watch = timer->watch;
            left.emplace_back(std::move(timer), watch);
        }
        shared_->live.clear();
    }
    if (!left.empty()) {
        spdlog::info("[{}] {} timer(s) still waiting at shutdown: calling back now", shared_->plugin_name, left.size());
    }
    for (const auto& [timer, watch] : left) {
        if (watch != 0) timer->request->unwatch_finish(watch);
        call_back(*shared_, *timer, true);
    }
}

std::size_t TimerService::pending() const {
    std::lock_guard lock(shared_->mutex);
    return shared_->live.size();
}

}  // namespace cppworker::plugin
