#include "pipeline/answer_relay.hpp"

#include <spdlog/spdlog.h>

#include <optional>
#include <vector>

namespace cppworker::pipeline {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using accounting::Outcome;
using requests::Event;

// A stream's events that are waiting go out in few writes: the head, chunks and the end together
// when the plugin had them all ready (a relayed SSE answer that came whole), in writes of at most
// about this many bytes, so that a backlog is not copied whole.
constexpr std::size_t max_write_bytes = 64 * 1024;

class Relay {
public:
    Relay(ClientPort& client, RequestScope& scope, asio::steady_timer& wake, Clock::time_point deadline,
          std::string_view path, const RelaySettings& settings)
        : client_(client), scope_(scope), pending_(*scope.pending()), wake_(wake), deadline_(deadline), path_(path),
          settings_(settings) {}

    asio::awaitable<bool> run() {
        for (;;) {
            if (auto ended = co_await send_events()) co_return *ended;
            switch (give_up_if_due()) {
            case GiveUp::no: break;
            case GiveUp::close: co_return false;
            case GiveUp::overflowed: {
                // Cut before its head went out: the client still gets an answer.
                auto reply = http1::error_reply(500, "the plugin's stream overran its buffer");
                co_await client_.write_whole(reply, true);
                co_return false;
            }
            case GiveUp::late: {
                auto reply = http1::error_reply(504, "the backend did not answer in time");
                co_return co_await client_.write_whole(reply, false);
            }
            }
            if (pending_.has_events()) continue;
            const bool plugin_stream = head_sent_ && pending_.plugin_may_answer();
            wake_.expires_at(plugin_stream ? last_write_ + settings_.stream_idle_timeout
                             : head_sent_  ? Clock::time_point::max()
                                           : deadline_);
            if (!co_await client_.wait(wake_)) {
                spdlog::info("request {} ({}): client {} disconnected; cancelled", pending_.id(), path_, client_.peer());
                pending_.cancel();
                scope_.finish(Outcome::cancel);
                co_return false;
            }
        }
    }

private:
    // Sends the events waiting. Set when the answer ended: whether the connection may go on.
    asio::awaitable<std::optional<bool>> send_events() {
        std::vector<Event> events = pending_.take_events();
        std::size_t next = 0;
        std::optional<bool> ended;
        do {
            piece_.head = nullptr;
            piece_.chunks.clear();
            piece_.end = false;
            std::size_t bytes = 0;
            for (; next < events.size() && !ended && bytes < max_write_bytes; ++next) {
                auto& e = events[next];
                switch (e.kind) {
                case Event::Kind::respond: {
                    http1::Reply reply{e.answer.status, std::move(e.answer.content_type), std::move(e.answer.body),
                                       std::move(e.answer.headers)};
                    scope_.finish(e.answer.failed ? Outcome::error : Outcome::success);
                    co_return co_await client_.write_whole(reply, false);
                }
                case Event::Kind::refused: {
                    auto reply = http1::error_reply(500, e.data);
                    scope_.finish(Outcome::error);
                    co_return co_await client_.write_whole(reply, false);
                }
                case Event::Kind::stream_begin:
                    piece_.head = &e.answer;
                    head_sent_ = true;
                    break;
                case Event::Kind::stream_data:
                    piece_.chunks.emplace_back(e.data);
                    bytes += e.data.size();
                    break;
                case Event::Kind::stream_end: ended = stream_ended(e); break;
                }
            }
            if (piece_.head || !piece_.chunks.empty() || piece_.end) {
                last_write_ = Clock::now();
                const bool written = co_await client_.write_stream(piece_);
                pending_.sent(bytes);
                if (!written) {
                    spdlog::debug("request {}: client {} went away while the answer was sent", pending_.id(),
                                  client_.peer());
                    pending_.cancel();
                    scope_.finish(Outcome::cancel);
                    co_return false;
                }
            }
        } while (next < events.size() && !ended);
        co_return ended;
    }

    // The stream's end: whole (the last chunk goes out), or cut short, which only closing the
    // connection can tell the client.
    bool stream_ended(const Event& e) {
        if (e.end_status != CPPW_OK) {
            spdlog::warn("request {}: the plugin ended its stream with status {}{}{}; cutting the answer short",
                         pending_.id(), static_cast<int>(e.end_status), e.data.empty() ? "" : ": ", e.data);
            scope_.finish(Outcome::error);
            return false;
        }
        scope_.finish(Outcome::success);
        piece_.end = true;
        return true;
    }

    enum class GiveUp {
        no,
        close,       // the connection closes without another word
        overflowed,  // a 500, then the connection closes
        late,        // a 504
    };

    // Ends the request when it was cancelled or a deadline passed; says what the client gets.
    GiveUp give_up_if_due() {
        if (pending_.cancelled()) {
            if (pending_.overflowed()) {
                spdlog::warn("request {} ({}): the plugin queued over {} bytes for a slow client, ignoring "
                             "backpressure; stream cut short",
                             pending_.id(), path_,
                             requests::PendingRequest::hard_limit_factor * settings_.stream_high_water);
                scope_.finish(Outcome::error);
                return head_sent_ ? GiveUp::close : GiveUp::overflowed;
            }
            // Its session closed, or the drain deadline passed: PyWorker aborts the connection
            // rather than answer.
            spdlog::info("request {} ({}): aborted", pending_.id(), path_);
            scope_.finish(Outcome::cancel);
            return GiveUp::close;
        }
        const bool plugin_stream = head_sent_ && pending_.plugin_may_answer();
        if (plugin_stream && Clock::now() >= last_write_ + settings_.stream_idle_timeout) {
            pending_.cancel();
            spdlog::warn("request {} ({}): the plugin's stream wrote nothing for {} ms; cut short", pending_.id(), path_,
                         settings_.stream_idle_timeout.count());
            scope_.finish(Outcome::error);
            return GiveUp::close;
        }
        if (!head_sent_ && Clock::now() >= deadline_) {
            pending_.cancel();
            spdlog::warn("request {} ({}): the plugin did not answer within {} ms; answering 504", pending_.id(), path_,
                         settings_.request_timeout.count());
            scope_.finish(Outcome::error);
            return GiveUp::late;
        }
        return GiveUp::no;
    }

    ClientPort& client_;
    RequestScope& scope_;
    requests::PendingRequest& pending_;
    asio::steady_timer& wake_;
    const Clock::time_point deadline_;
    const std::string_view path_;
    const RelaySettings& settings_;
    StreamPiece piece_;
    bool head_sent_ = false;
    Clock::time_point last_write_;
};

}  // namespace

asio::awaitable<bool> relay_answer(ClientPort& client, RequestScope& scope, asio::steady_timer& wake,
                                   Clock::time_point deadline, std::string_view path, const RelaySettings& settings) {
    Relay relay(client, scope, wake, deadline, path, settings);
    co_return co_await relay.run();
}

}  // namespace cppworker::pipeline
