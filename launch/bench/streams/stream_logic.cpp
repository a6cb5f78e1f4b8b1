#include "stream_logic.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <ctime>

namespace bench_streams {

int64_t now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

void raise_descriptor_limit() {
    rlimit files{};
    getrlimit(RLIMIT_NOFILE, &files);
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
}

namespace {

template <class T>
void append_number(std::string& out, T value, int base = 10) {
    char digits[24];
    const auto end = std::to_chars(digits, digits + sizeof digits, value, base).ptr;
    out.append(digits, end);
}

}  // namespace

void append_event_chunk(std::string& out, uint32_t id, int64_t due, bool last) {
    thread_local std::string event;  // reused: no allocation per event once it has grown
    event.assign(R"(data:{"token":{"id":)");
    append_number(event, id);
    event.append(R"(,"text":")");
    append_number(event, due);
    event.append(R"(","logprob":-0.25,"special":false},"generated_text":)");
    event.append(last ? R"("the stand-in's whole answer")" : "null");
    event.append(",\"details\":null}\n\n");
    append_number(out, event.size(), 16);
    out.append("\r\n").append(event).append("\r\n");
}

namespace {

template <class T>
std::optional<T> number_after(std::string_view data, std::string_view key) {
    const auto at = data.find(key);
    if (at == std::string_view::npos) return std::nullopt;
    T value{};
    const char* first = data.data() + at + key.size();
    const auto [end, ec] = std::from_chars(first, data.data() + data.size(), value);
    if (ec != std::errc() || end == first) return std::nullopt;
    return value;
}

}  // namespace

std::optional<Event> parse_event(std::string_view data) {
    const auto id = number_after<uint32_t>(data, R"("id":)");
    const auto due = number_after<int64_t>(data, R"("text":")");
    const auto generated = data.find(R"("generated_text":)");
    if (!id || !due || generated == std::string_view::npos) return std::nullopt;
    return Event{*id, *due, data.substr(generated + 17, 4) != "null"};
}

int64_t percentile(const std::vector<int64_t>& sorted, double p) {
    if (sorted.empty()) return 0;
    const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size()) - 1e-9));
    return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

bool AnswerDecoder::fail(std::string why) {
    state_ = State::failed;
    error_ = std::move(why);
    return false;
}

namespace {

bool header_is(std::string_view line, std::string_view name) {
    if (line.size() <= name.size() || line[name.size()] != ':') return false;
    return std::equal(name.begin(), name.end(), line.begin(),
                      [](char a, char b) { return a == (b >= 'A' && b <= 'Z' ? b - 'A' + 'a' : b); });
}

std::string_view value_of(std::string_view line) {
    line.remove_prefix(line.find(':') + 1);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
    return line;
}

}  // namespace

bool AnswerDecoder::parse_head(std::string_view head) {
    if (!head.starts_with("HTTP/1.") || head.size() < 12) return fail("bad status line");
    if (std::from_chars(head.data() + 9, head.data() + 12, status_).ec != std::errc()) return fail("bad status");
    bool chunked = false;
    std::optional<uint64_t> length;
    for (auto at = head.find("\r\n"); at != std::string_view::npos && at + 2 < head.size();) {
        const auto next = head.find("\r\n", at + 2);
        const auto line = head.substr(at + 2, next - at - 2);
        if (header_is(line, "transfer-encoding")) chunked = value_of(line).ends_with("chunked");
        if (header_is(line, "content-length")) {
            const auto v = value_of(line);
            length.emplace();
            if (std::from_chars(v.data(), v.data() + v.size(), *length).ec != std::errc()) return fail("bad length");
        }
        at = next;
    }
    if (chunked) {
        state_ = State::chunk_size;
    } else if (length) {
        remaining_ = *length;
        state_ = remaining_ ? State::sized : State::done;
    } else {
        return fail("neither chunked nor sized");
    }
    return true;
}

void AnswerDecoder::body(std::string_view piece, const OnEvent& on_event) {
    events_.append(piece);
    std::size_t start = 0;
    for (auto end = events_.find("\n\n"); end != std::string::npos; end = events_.find("\n\n", start)) {
        std::string_view event(events_.data() + start, end - start);
        start = end + 2;
        // One data line per event (TGI's): its value after "data:" and an optional space.
        for (std::size_t line = 0; line < event.size();) {
            auto eol = event.find('\n', line);
            if (eol == std::string_view::npos) eol = event.size();
            auto text = event.substr(line, eol - line);
            if (text.starts_with("data:")) {
                text.remove_prefix(5);
                if (text.starts_with(' ')) text.remove_prefix(1);
                on_event(text);
            }
            line = eol + 1;
        }
    }
    events_.erase(0, start);
}

bool AnswerDecoder::feed(std::string_view bytes, const OnEvent& on_event) {
    pending_.append(bytes);
    std::string_view in(pending_);
    while (!in.empty()) {
        switch (state_) {
        case State::head: {
            const auto end = in.find("\r\n\r\n");
            if (end == std::string_view::npos) goto keep;
            if (!parse_head(in.substr(0, end + 2))) return false;
            in.remove_prefix(end + 4);
            break;
        }
        case State::chunk_size: {
            const auto eol = in.find("\r\n");
            if (eol == std::string_view::npos) goto keep;
            uint64_t size = 0;
            const auto [end, ec] = std::from_chars(in.data(), in.data() + eol, size, 16);
            if (ec != std::errc() || end == in.data()) return fail("bad chunk size");
            in.remove_prefix(eol + 2);
            remaining_ = size;
            state_ = size ? State::chunk_data : State::trailers;
            break;
        }
        case State::chunk_data: {
            const auto n = std::min<uint64_t>(remaining_, in.size());
            body(in.substr(0, n), on_event);
            in.remove_prefix(n);
            remaining_ -= n;
            if (!remaining_) state_ = State::chunk_end;
            break;
        }
        case State::chunk_end:
            if (in.size() < 2) goto keep;
            if (!in.starts_with("\r\n")) return fail("chunk not followed by CRLF");
            in.remove_prefix(2);
            state_ = State::chunk_size;
            break;
        case State::trailers: {
            const auto eol = in.find("\r\n");
            if (eol == std::string_view::npos) goto keep;
            in.remove_prefix(eol + 2);
            if (eol == 0) state_ = State::done;
            break;
        }
        case State::sized: {
            const auto n = std::min<uint64_t>(remaining_, in.size());
            body(in.substr(0, n), on_event);
            in.remove_prefix(n);
            remaining_ -= n;
            if (!remaining_) state_ = State::done;
            break;
        }
        case State::done:
            return fail("bytes after the end of the answer");
        case State::failed:
            return false;
        }
    }
keep:
    pending_.erase(0, pending_.size() - in.size());
    if (state_ == State::done && !events_.empty()) body("\n\n", on_event);  // a last event without its blank line
    return true;
}

}  // namespace bench_streams
