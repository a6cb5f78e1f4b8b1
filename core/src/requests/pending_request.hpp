#pragma once

#include "async/wakeup.hpp"

#include <cppworker/plugin.h>

#include <boost/asio/any_io_executor.hpp>
#include <boost/container/small_vector.hpp>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace cppworker::requests {

struct Answer {
    uint16_t status = 200;
    std::string content_type;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    bool failed = false;  // answered, but counted as an error (CPPW_RESPONSE_FAILED, a 502 from forwarding)
};

// What the plugin did with a request, in order, for the connection to send.
struct Event {
    enum class Kind { respond, stream_begin, stream_data, stream_end, refused };
    Kind kind;
    Answer answer;                   // respond, stream_begin (body unused)
    std::string data;                // stream_data; refused: the plugin's message
    cppw_status end_status = CPPW_OK;  // stream_end
};

// What the plugin did that the connection has not yet taken. A whole answer is one event, and a
// stream's arrive one at a time at a stream's pace: one is kept inline.
using Events = boost::container::small_vector<Event, 1>;

// One accepted request as both sides see it: the plugin pushes answers from any thread, the
// connection takes them on its own executor. The notifier tells the connection to look.
class PendingRequest {
public:
    // A plugin that ignores CPPW_BACKPRESSURE gets its stream cut at this many times the
    // high-water mark queued, rather than the worker's memory.
    static constexpr std::size_t hard_limit_factor = 8;

    PendingRequest(cppw_request_id id, std::size_t high_water) : id_(id), high_water_(high_water) {}

    cppw_request_id id() const { return id_; }

    // Plugin side. Each returns what the host service returns. respond and stream_end complete
    // the request, even one cancelled first (they then return CPPW_CANCELLED).
    cppw_status respond(Answer answer);
    cppw_status stream_begin(Answer head);
    cppw_status stream_write(std::string chunk);
    cppw_status stream_wait(std::chrono::milliseconds timeout);
    cppw_status stream_end(cppw_status status);
    bool cancelled() const;
    // Cancelled because the plugin queued more than the hard limit of stream data.
    bool overflowed() const;
    // `handle` did not accept the request (it failed, or threw through the SDK): the answer is a
    // 500 with `message`, or a stream already begun is cut short; either completes it. Ignored
    // when the plugin answered anyway, or handed the request to the host to relay.
    void refuse(std::string message);
    // `listener` runs once, when the request is completed (answered, its stream ended, refused),
    // whether or not it was cancelled first; on the thread that completed it, or at once when
    // that happened already. One listener: the request's owner (pipeline/request_scope.hpp).
    void on_completed(std::function<void()> listener);
    // The host takes over answering (a relayed forward): CPPW_OK, CPPW_CANCELLED, or
    // CPPW_WRONG_STATE when the request was answered, is being answered, or is relayed already.
    // The plugin's own answers are then refused (see plugin_may_answer).
    cppw_status begin_relay();
    bool plugin_may_answer() const;
    // Runs `listener` once, when the request is completed or cancelled, on the thread that did it;
    // false (and never runs it) when that already happened.
    bool on_finish(std::function<void()> listener);
    // As on_finish, for a listener that may be dropped again (unwatch_finish) once what it serves
    // ended first: returns its key, or 0 when the request finished already (it is not kept).
    uint64_t watch_finish(std::function<void()> listener);
    void unwatch_finish(uint64_t key);
    // Answered, its stream ended, or refused: the plugin can do nothing more with it.
    bool completed() const;
    // The event loop of the connection it came on, set before `handle` is called; the host's
    // timers for the request (ABI 1.4) run there. Empty before, and for the plugin's own forwards.
    void set_loop(boost::asio::any_io_executor loop);
    std::optional<boost::asio::any_io_executor> loop() const;
    // `listener` runs once if the host gives the request up (cancel()) before it was completed
    // (the plugin's `cancel` hook, ABI 1.3); at once when that already happened, never when it
    // was completed first.
    void on_give_up(std::function<void()> listener);
    // What `workload` attached for `handle` (ABI 1.3). take_state hands it over once, to `handle`
    // or to the release hook, and refuses later attachments.
    cppw_status attach_state(void* state);
    void* take_state();
    // Whether `handle` may run for it, asked just before the call: false, and never true later,
    // when the request was given up (cancelled) or let go by its owner first. A request given up
    // while it waited for a thread of the blocking pool thus never reaches the plugin.
    bool begin_handle();
    // Its owner lets it go (pipeline/request_scope.hpp): true when `handle` never ran, which then
    // never will, so what it holds is the owner's to release.
    bool withdraw_unhandled();
    // Stream data queued for the client over the high-water mark; `listener` runs once when it
    // drops to the low-water mark or the request is cancelled (at once if that is already so).
    bool over_high_water() const;
    void when_drained(std::function<void()> listener);

    // Connection side. The waker is woken whenever events are pushed and when the request is
    // cancelled; none (nullopt) from when the connection is done with the request.
    void set_notifier(std::optional<async::Wakeup::Waker> notify);
    // The events queued since the last take, swapped into `into` (whose old contents go): the two
    // queues trade places, so neither allocates once both have grown to a stream's pace.
    void take_events(Events& into);
    // Events wait to be taken. Checked before waiting for a wake-up: one that came while the
    // connection was busy writing found nobody waiting.
    bool has_events() const;
    void sent(std::size_t bytes);  // stream bytes handed to the socket
    void cancel();                 // the client left, its session closed, or the host gave up

private:
    enum class State { open, streaming, done };
    cppw_status push(Event e, std::size_t stream_bytes);
    // A request has one or two (a forward's abort, a plugin timer's): kept inline.
    using FinishListeners = boost::container::small_vector<std::pair<uint64_t, std::function<void()>>, 2>;
    // Called with the lock held when the request is completed or cancelled; the caller runs them.
    FinishListeners take_finish_listeners();
    // Called with the lock held: the request is completed now. The caller runs what it returns.
    std::function<void()> complete_locked();

    const cppw_request_id id_;
    const std::size_t high_water_;
    mutable std::mutex mutex_;
    std::condition_variable drained_;
    State state_ = State::open;
    bool cancelled_ = false;
    bool overflowed_ = false;
    std::size_t queued_bytes_ = 0;
    Events events_;
    std::optional<async::Wakeup::Waker> notify_;
    bool relayed_ = false;
    bool finished_ = false;
    FinishListeners finish_listeners_;
    uint64_t next_finish_key_ = 1;
    std::optional<boost::asio::any_io_executor> loop_;
    std::function<void()> completed_listener_;
    std::function<void()> drained_listener_;
    std::function<void()> give_up_listener_;
    void* plugin_state_ = nullptr;
    bool state_taken_ = false;
    enum class Handle { not_yet, running, never } handle_ = Handle::not_yet;
};

}  // namespace cppworker::requests
