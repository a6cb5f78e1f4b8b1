#include "requests/pending_request.hpp"

#include "async/io_thread.hpp"

#include <algorithm>
#include <utility>

namespace cppworker::requests {

cppw_status PendingRequest::push(Event e, std::size_t stream_bytes) {
    std::optional<async::Wakeup::Waker> notify;
    bool over_high_water;
    {
        std::lock_guard lock(mutex_);
        queued_bytes_ += stream_bytes;
        over_high_water = queued_bytes_ > high_water_;
        events_.push_back(std::move(e));
        notify = notify_;
    }
    if (notify) (*notify)();
    return over_high_water ? CPPW_BACKPRESSURE : CPPW_OK;
}

namespace {
template <class Listeners>
void run_all(Listeners listeners) {
    for (auto& [key, listener] : listeners) listener();
}
}  // namespace

PendingRequest::FinishListeners PendingRequest::take_finish_listeners() {
    finished_ = true;
    return std::exchange(finish_listeners_, {});
}

std::function<void()> PendingRequest::complete_locked() {
    state_ = State::done;
    return std::exchange(completed_listener_, nullptr);
}

cppw_status PendingRequest::respond(Answer answer) {
    FinishListeners listeners;
    std::function<void()> completed;
    bool cancelled;
    {
        std::lock_guard lock(mutex_);
        if (state_ != State::open) return CPPW_WRONG_STATE;
        completed = complete_locked();
        cancelled = cancelled_;
        if (!cancelled) listeners = take_finish_listeners();
    }
    if (!cancelled) push(Event{Event::Kind::respond, std::move(answer), {}, CPPW_OK}, 0);
    run_all(std::move(listeners));
    if (completed) completed();
    return cancelled ? CPPW_CANCELLED : CPPW_OK;
}

cppw_status PendingRequest::stream_begin(Answer head) {
    {
        std::lock_guard lock(mutex_);
        if (state_ != State::open) return CPPW_WRONG_STATE;
        state_ = State::streaming;
        if (cancelled_) return CPPW_CANCELLED;
    }
    push(Event{Event::Kind::stream_begin, std::move(head), {}, CPPW_OK}, 0);
    return CPPW_OK;
}

cppw_status PendingRequest::stream_write(std::string chunk) {
    const auto size = chunk.size();
    bool overflow;
    {
        std::lock_guard lock(mutex_);
        if (state_ != State::streaming) return CPPW_WRONG_STATE;
        if (cancelled_) return CPPW_CANCELLED;
        overflow = overflowed_ = queued_bytes_ + size > hard_limit_factor * high_water_;
    }
    if (overflow) {
        cancel();
        return CPPW_CANCELLED;
    }
    return push(Event{Event::Kind::stream_data, {}, std::move(chunk), CPPW_OK}, size);
}

cppw_status PendingRequest::stream_wait(std::chrono::milliseconds timeout) {
    if (async::on_io_thread()) return CPPW_WRONG_STATE;
    std::unique_lock lock(mutex_);
    if (state_ != State::streaming) return CPPW_WRONG_STATE;
    const auto low_water = high_water_ / 4;
    const bool drained = drained_.wait_for(lock, timeout, [&] { return cancelled_ || queued_bytes_ <= low_water; });
    if (cancelled_) return CPPW_CANCELLED;
    return drained ? CPPW_OK : CPPW_BACKPRESSURE;
}

cppw_status PendingRequest::stream_end(cppw_status status) {
    FinishListeners listeners;
    std::function<void()> completed;
    bool cancelled;
    {
        std::lock_guard lock(mutex_);
        if (state_ != State::streaming) return CPPW_WRONG_STATE;
        completed = complete_locked();
        cancelled = cancelled_;
        if (!cancelled) listeners = take_finish_listeners();
    }
    if (!cancelled) push(Event{Event::Kind::stream_end, {}, {}, status}, 0);
    run_all(std::move(listeners));
    if (completed) completed();
    return cancelled ? CPPW_CANCELLED : CPPW_OK;
}

void PendingRequest::refuse(std::string message) {
    FinishListeners listeners;
    std::function<void()> completed;
    bool streaming;
    {
        std::lock_guard lock(mutex_);
        if (state_ == State::done || relayed_) return;
        streaming = state_ == State::streaming;
        completed = complete_locked();
        listeners = take_finish_listeners();
    }
    if (streaming) {
        push(Event{Event::Kind::stream_end, {}, std::move(message), CPPW_ERROR}, 0);
    } else {
        push(Event{Event::Kind::refused, {}, std::move(message), CPPW_ERROR}, 0);
    }
    run_all(std::move(listeners));
    if (completed) completed();
}

void PendingRequest::on_completed(std::function<void()> listener) {
    {
        std::lock_guard lock(mutex_);
        if (state_ != State::done) {
            completed_listener_ = std::move(listener);
            return;
        }
    }
    listener();
}

cppw_status PendingRequest::begin_relay() {
    std::lock_guard lock(mutex_);
    if (state_ != State::open || relayed_) return CPPW_WRONG_STATE;
    if (cancelled_) return CPPW_CANCELLED;
    relayed_ = true;
    return CPPW_OK;
}

bool PendingRequest::plugin_may_answer() const {
    std::lock_guard lock(mutex_);
    return !relayed_;
}

bool PendingRequest::on_finish(std::function<void()> listener) { return watch_finish(std::move(listener)) != 0; }

uint64_t PendingRequest::watch_finish(std::function<void()> listener) {
    std::lock_guard lock(mutex_);
    if (finished_) return 0;
    const uint64_t key = next_finish_key_++;
    finish_listeners_.emplace_back(key, std::move(listener));
    return key;
}

void PendingRequest::unwatch_finish(uint64_t key) {
    std::function<void()> dropped;  // destroyed outside the lock: it may own what locks it again
    {
        std::lock_guard lock(mutex_);
        const auto it = std::find_if(finish_listeners_.begin(), finish_listeners_.end(),
                                     [key](const auto& l) { return l.first == key; });
        if (it == finish_listeners_.end()) return;
        dropped = std::move(it->second);
        finish_listeners_.erase(it);
    }
}

bool PendingRequest::completed() const {
    std::lock_guard lock(mutex_);
    return state_ == State::done;
}

void PendingRequest::set_loop(boost::asio::any_io_executor loop) {
    std::lock_guard lock(mutex_);
    loop_ = std::move(loop);
}

std::optional<boost::asio::any_io_executor> PendingRequest::loop() const {
    std::lock_guard lock(mutex_);
    return loop_;
}

void PendingRequest::on_give_up(std::function<void()> listener) {
    {
        std::lock_guard lock(mutex_);
        if (state_ == State::done) return;
        if (!cancelled_) {
            give_up_listener_ = std::move(listener);
            return;
        }
    }
    listener();
}

cppw_status PendingRequest::attach_state(void* state) {
    std::lock_guard lock(mutex_);
    if (state_taken_ || plugin_state_ != nullptr) return CPPW_WRONG_STATE;
    plugin_state_ = state;
    return CPPW_OK;
}

void* PendingRequest::take_state() {
    std::lock_guard lock(mutex_);
    state_taken_ = true;
    return std::exchange(plugin_state_, nullptr);
}

bool PendingRequest::begin_handle() {
    std::lock_guard lock(mutex_);
    if (handle_ == Handle::not_yet) handle_ = cancelled_ ? Handle::never : Handle::running;
    return handle_ == Handle::running;
}

bool PendingRequest::withdraw_unhandled() {
    std::lock_guard lock(mutex_);
    if (handle_ == Handle::not_yet) handle_ = Handle::never;
    return handle_ == Handle::never;
}

bool PendingRequest::over_high_water() const {
    std::lock_guard lock(mutex_);
    return !cancelled_ && queued_bytes_ > high_water_;
}

void PendingRequest::when_drained(std::function<void()> listener) {
    {
        std::lock_guard lock(mutex_);
        if (!cancelled_ && queued_bytes_ > high_water_ / 4) {
            drained_listener_ = std::move(listener);
            return;
        }
    }
    listener();
}

bool PendingRequest::cancelled() const {
    std::lock_guard lock(mutex_);
    return cancelled_;
}

bool PendingRequest::overflowed() const {
    std::lock_guard lock(mutex_);
    return overflowed_;
}

void PendingRequest::set_notifier(std::optional<async::Wakeup::Waker> notify) {
    std::lock_guard lock(mutex_);
    notify_ = std::move(notify);
}

void PendingRequest::take_events(Events& into) {
    into.clear();
    std::lock_guard lock(mutex_);
    into.swap(events_);
}

bool PendingRequest::has_events() const {
    std::lock_guard lock(mutex_);
    return !events_.empty();
}

void PendingRequest::sent(std::size_t bytes) {
    std::function<void()> drained;
    {
        std::lock_guard lock(mutex_);
        queued_bytes_ -= std::min(bytes, queued_bytes_);
        if (drained_listener_ && queued_bytes_ <= high_water_ / 4) drained = std::exchange(drained_listener_, nullptr);
    }
    drained_.notify_all();
    if (drained) drained();
}

void PendingRequest::cancel() {
    std::optional<async::Wakeup::Waker> notify;
    std::function<void()> drained;
    std::function<void()> give_up;
    FinishListeners listeners;
    {
        std::lock_guard lock(mutex_);
        if (cancelled_) return;
        cancelled_ = true;
        if (state_ != State::done) give_up = std::exchange(give_up_listener_, nullptr);
        events_.clear();
        queued_bytes_ = 0;
        notify = std::exchange(notify_, std::nullopt);
        drained = std::exchange(drained_listener_, nullptr);
        listeners = take_finish_listeners();
    }
    drained_.notify_all();
    // The connection may be waiting for an answer that will now never be sent.
    if (notify) (*notify)();
    if (drained) drained();
    if (give_up) give_up();
    run_all(std::move(listeners));
}

}  // namespace cppworker::requests
