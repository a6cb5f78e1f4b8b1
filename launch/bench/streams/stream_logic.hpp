#pragma once
// The pure parts of the streams-at-scale benchmark (launch/bench/streams_at_scale.py): the
// stand-in's schedule and its TGI-shaped events, and the client's decoding of what arrives.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bench_streams {

// CLOCK_MONOTONIC in ns: one clock for every process on the machine, so the stand-in's due times
// and the client's arrival times compare.
int64_t now_ns();

// Thousands of streams take as many descriptors: the soft limit goes up to the hard one.
void raise_descriptor_limit();

// Event k of a stream is due at t0 + k·interval (k = 0 at once): an absolute schedule, no drift.
constexpr int64_t due_ns(int64_t t0_ns, uint32_t k, int64_t interval_ns) {
    return t0_ns + static_cast<int64_t>(k) * interval_ns;
}

// How many of a stream's `count` events are due at `now`.
constexpr uint32_t events_due(int64_t t0_ns, int64_t now, int64_t interval_ns, uint32_t count) {
    if (now < t0_ns) return 0;
    const int64_t due = (now - t0_ns) / interval_ns + 1;
    return due >= count ? count : static_cast<uint32_t>(due);
}

// Appends event `id` as one chunk of a chunked body: a TGI `token` event whose text is its due
// time in ns; the last one has generated_text set (details null, as TGI without details).
void append_event_chunk(std::string& out, uint32_t id, int64_t due, bool last);

// One event's data as the client reads it back.
struct Event {
    uint32_t id = 0;
    int64_t due_ns = 0;
    bool last = false;
};
std::optional<Event> parse_event(std::string_view data);

// Nearest-rank percentile (p in [0, 100]) of sorted values; 0 when empty.
int64_t percentile(const std::vector<int64_t>& sorted, double p);

// An HTTP/1.1 answer fed as it arrives, in pieces cut anywhere: the status line and headers, then a
// chunked (or sized) body split into SSE events, whose data lines are handed on one event at a time.
class AnswerDecoder {
public:
    using OnEvent = std::function<void(std::string_view data)>;
    // Returns false once the answer is malformed (see error()).
    bool feed(std::string_view bytes, const OnEvent& on_event);
    int status() const { return status_; }
    bool head_done() const { return state_ != State::head; }
    bool done() const { return state_ == State::done; }
    const std::string& error() const { return error_; }

private:
    enum class State { head, chunk_size, chunk_data, chunk_end, trailers, sized, done, failed };
    bool fail(std::string why);
    bool parse_head(std::string_view head);
    void body(std::string_view piece, const OnEvent& on_event);

    State state_ = State::head;
    std::string pending_;  // bytes not yet consumed by the state (a partial line, head or chunk)
    std::string events_;   // body bytes not yet a whole event
    uint64_t remaining_ = 0;
    int status_ = 0;
    std::string error_;
};

}  // namespace bench_streams
