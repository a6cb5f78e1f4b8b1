#include "pipeline/answer_relay.hpp"

#include <spdlog/spdlog.h>

namespace cppworker::pipeline {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using accounting::Outcome;
using requests::Event;

namespace {

// A stream's events that are waiting go out in few writes: the head, chunks and the end together
// when the plugin had them all ready (a relayed SSE answer that came whole), in writes of at most
// about this many bytes, so that a backlog is not copied whole.
constexpr std::size_t max_write_bytes = 64 * 1024;

// A write to the client is under way for as long as it lives: what woken() looks at.
class WriteUnderWay {
public:
    explicit WriteUnderWay(bool& flag) : flag_(flag) { flag_ = true; }
    ~WriteUnderWay() { flag_ = false; }
    WriteUnderWay(const WriteUnderWay&) = delete;
    WriteUnderWay& operator=(const WriteUnderWay&) = delete;

private:
    bool& flag_;
};

}  // namespace

AnswerRelay::AnswerRelay(ClientPort& client, RequestScope& scope, async::Wakeup& wake, Clock::time_point deadline,
                         std::string_view path, const RelaySettings& settings)
    : client_(client), scope_(scope), pending_(*scope.pending()), wake_(wake), deadline_(deadline), path_(path),
      settings_(settings) {
    wake_.listen(this);
}

AnswerRelay::~AnswerRelay() { wake_.listen(nullptr); }

void AnswerRelay::woken() {
    if (writing_ && pending_.cancelled()) client_.interrupt_write();
}

asio::awaitable<bool> AnswerRelay::run() {
    for (;;) {
        pending_.take_events(events_);
        next_ = 0;
        for (auto next = collect(); next != Next::more_events; next = collect()) {
            if (next == Next::whole) {
                const WriteUnderWay writing(writing_);
                co_return co_await client_.write_whole(reply_, false);
            }
            last_write_ = Clock::now();
            bool written;
            {
                const WriteUnderWay writing(writing_);
                written = co_await client_.write_stream(piece_);
            }
            pending_.sent(piece_bytes_);
            if (!written) {
                if (pending_.cancelled()) {
                    give_up_if_due();
                } else {
                    client_gone("went away while the answer was sent");
                }
                co_return false;
            }
            if (next == Next::last_piece) co_return ended_whole_;
        }
        switch (give_up_if_due()) {
        case GiveUp::no: break;
        case GiveUp::close: co_return false;
        case GiveUp::overflowed: {
            // Cut before its head went out: the client still gets an answer.
            reply_ = http1::error_reply(500, "the plugin's stream overran its buffer");
            const WriteUnderWay writing(writing_);
            co_await client_.write_whole(reply_, true);
            co_return false;
        }
        case GiveUp::late: {
            reply_ = http1::error_reply(504, "the backend did not answer in time");
            const WriteUnderWay writing(writing_);
            co_return co_await client_.write_whole(reply_, false);
        }
        }
        if (pending_.has_events()) continue;
        const bool plugin_stream = head_sent_ && pending_.plugin_may_answer();
        wake_.timer().expires_at(plugin_stream ? last_write_ + settings_.stream_idle_timeout
                                 : head_sent_  ? Clock::time_point::max()
                                               : deadline_);
        if (!co_await client_.wait(wake_.timer())) {
            client_gone("disconnected");
            co_return false;
        }
    }
}

AnswerRelay::Next AnswerRelay::collect() {
    piece_.head = nullptr;
    piece_.chunks.clear();
    piece_.end = false;
    piece_bytes_ = 0;
    bool ended = false;
    for (; next_ < events_.size() && !ended && piece_bytes_ < max_write_bytes; ++next_) {
        auto& e = events_[next_];
        switch (e.kind) {
        case Event::Kind::respond:
            scope_.finish(e.answer.failed ? Outcome::error : Outcome::success);
            reply_ = http1::Reply{e.answer.status, std::move(e.answer.content_type), std::move(e.answer.body),
                                  std::move(e.answer.headers)};
            return Next::whole;
        case Event::Kind::refused:
            scope_.finish(Outcome::error);
            reply_ = http1::error_reply(500, e.data);
            return Next::whole;
        case Event::Kind::stream_begin:
            piece_.head = &e.answer;
            head_sent_ = true;
            break;
        case Event::Kind::stream_data:
            piece_.chunks.emplace_back(e.data);
            piece_bytes_ += e.data.size();
            break;
        case Event::Kind::stream_end:
            ended_whole_ = stream_ended(e);
            ended = true;
            break;
        }
    }
    if (ended) return Next::last_piece;
    return piece_.head || !piece_.chunks.empty() ? Next::piece : Next::more_events;
}

// The stream's end: whole (the last chunk goes out), or cut short, which only closing the
// connection can tell the client.
bool AnswerRelay::stream_ended(const Event& e) {
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

void AnswerRelay::client_gone(std::string_view how) {
    spdlog::info("request {} ({}): client {} {}; cancelled", pending_.id(), path_, client_.peer(), how);
    pending_.cancel();
    scope_.finish(Outcome::cancel);
}

AnswerRelay::GiveUp AnswerRelay::give_up_if_due() {
    if (pending_.cancelled()) {
        if (pending_.overflowed()) {
            spdlog::warn("request {} ({}): the plugin queued over {} bytes for a slow client, ignoring "
                         "backpressure; stream cut short",
                         pending_.id(), path_, requests::PendingRequest::hard_limit_factor * settings_.stream_high_water);
            scope_.finish(Outcome::error);
            return head_sent_ ? GiveUp::close : GiveUp::overflowed;
        }
        // Its session closed, or the drain deadline passed: PyWorker aborts the connection rather
        // than answer.
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

}  // namespace cppworker::pipeline
