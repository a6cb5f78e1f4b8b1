#pragma once

#include "async/wakeup.hpp"
#include "pipeline/client_port.hpp"
#include "pipeline/request_scope.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string_view>

namespace cppworker::pipeline {

struct RelaySettings {
    std::chrono::milliseconds request_timeout;      // for the log: what `deadline` came from
    std::chrono::milliseconds stream_idle_timeout;  // between the writes of the plugin's own stream
    std::size_t stream_high_water;                  // for the log of a stream cut for flooding
};

// Sends what the plugin produces for a request it was handed, until it completed it, the client
// left, or a deadline passed: `deadline` for the answer to begin, then stream_idle_timeout between
// the writes of the plugin's own stream (a relayed one has the forwarder's timeouts). `wake` is
// woken by the request's news (PendingRequest's notifier). The outcome goes to `scope` as soon as
// it is known, before the last write: a client that has its answer finds it counted, as PyWorker
// counts a response once its handler returns it.
class AnswerRelay final : async::Wakeup::Listener {
public:
    AnswerRelay(ClientPort& client, RequestScope& scope, async::Wakeup& wake,
                std::chrono::steady_clock::time_point deadline, std::string_view path, const RelaySettings& settings);
    ~AnswerRelay();
    AnswerRelay(const AnswerRelay&) = delete;
    AnswerRelay& operator=(const AnswerRelay&) = delete;

    // True when the answer went out whole and the connection is fit for another request.
    boost::asio::awaitable<bool> run();

private:
    // A request cancelled while its answer is being written (the plugin overran its buffer, its
    // session closed, the drain ran out) ends that write at once, not when the client reads. A
    // cancel wakes the request's waker, which tells the relay.
    void woken() override;

    // What the events taken so far call for next.
    enum class Next {
        more_events,  // all taken; wait for more
        whole,        // write reply_, and the answer is done
        piece,        // write piece_, then go on
        last_piece,   // write piece_, and the answer is done: `ended_whole_` says how
    };
    Next collect();
    bool stream_ended(const requests::Event& e);

    enum class GiveUp {
        no,
        close,       // the connection closes without another word
        overflowed,  // a 500, then the connection closes
        late,        // a 504
    };
    // Ends the request when it was cancelled or a deadline passed; says what the client gets.
    GiveUp give_up_if_due();
    void client_gone(std::string_view how);

    ClientPort& client_;
    RequestScope& scope_;
    requests::PendingRequest& pending_;
    async::Wakeup& wake_;
    const std::chrono::steady_clock::time_point deadline_;
    const std::string_view path_;
    const RelaySettings& settings_;
    requests::Events events_;  // taken from the request, sent up to next_
    std::size_t next_ = 0;
    http1::Reply reply_;
    StreamPiece piece_;
    std::size_t piece_bytes_ = 0;
    bool ended_whole_ = false;
    bool head_sent_ = false;
    bool writing_ = false;
    std::chrono::steady_clock::time_point last_write_;
};

}  // namespace cppworker::pipeline
