// The SSE splitter and the token counters built on it (TGI's token events, the OpenAI plugin's
// output chunks): the same events and counts however the stream is cut into pieces, equal to a
// whole-stream SSE reader written here; the counters never throw.
#include "fuzz_support.hpp"

#include "common/sse.hpp"
#include "openai/openai_logic.hpp"
#include "tgi/tgi_logic.hpp"

#include <algorithm>
#include <string>
#include <vector>

namespace cppworker_fuzz {
namespace {

// The data of each event of a whole stream, by the SSE rules the splitter documents: lines end at
// '\n' (an '\r' before it is dropped), "data" / "data:" / "data: " lines add to the event, a blank
// line dispatches it, an event without data is not reported, and the end of the stream ends the
// last line and event.
std::vector<std::string> events_of(std::string_view stream) {
    std::vector<std::string> events;
    std::string data;
    bool has_data = false;
    auto dispatch = [&] {
        if (has_data) events.push_back(data);
        data.clear();
        has_data = false;
    };
    std::size_t start = 0;
    while (start <= stream.size()) {
        const auto nl = stream.find('\n', start);
        const bool last = nl == std::string_view::npos;
        std::string_view line = stream.substr(start, last ? std::string_view::npos : nl - start);
        if (last && line.empty()) break;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.empty()) {
            dispatch();
        } else if (line.starts_with("data") && (line.size() == 4 || line[4] == ':')) {
            auto value = line.substr(std::min<std::size_t>(5, line.size()));
            if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
            if (has_data) data += '\n';
            data.append(value);
            has_data = true;
        }
        if (last) break;
        start = nl + 1;
    }
    dispatch();
    return events;
}

}  // namespace

int run_sse_counters(const uint8_t* data, std::size_t size) {
    Reader in(data, size);
    std::vector<std::size_t> cuts(in.byte() & 7);
    for (auto& c : cuts) c = in.u16();
    const std::string stream(in.rest());
    for (auto& c : cuts) c %= stream.size() + 1;
    std::sort(cuts.begin(), cuts.end());

    plugin_common::SseSplitter splitter;
    tgi_plugin::TokenCounter counter;
    std::vector<std::string> got;
    uint64_t tokens = 0;
    auto on_event = [&got](std::string_view e) { got.emplace_back(e); };
    std::size_t from = 0;
    cuts.push_back(stream.size());
    for (const auto cut : cuts) {
        const std::string piece = stream.substr(from, cut - from);  // own allocation: ASan sees overreads
        splitter.feed(piece, on_event);
        tokens += counter.feed(piece);
        from = cut;
    }
    splitter.finish(on_event);
    tokens += counter.finish();

    const auto expected = events_of(stream);
    FUZZ_CHECK(got == expected);
    uint64_t expected_tokens = 0;
    for (const auto& e : expected) {
        const auto t = tgi_plugin::token_events(e);
        FUZZ_CHECK(t <= 1);
        expected_tokens += t;
        static_assert(noexcept(openai_plugin::output_chunks(e)));
        const auto chunks = openai_plugin::output_chunks(e);
        // At most one per choice.
        FUZZ_CHECK(chunks <= static_cast<uint64_t>(std::count(e.begin(), e.end(), '{')));
    }
    FUZZ_CHECK(tokens == expected_tokens);
    return 0;
}

}  // namespace cppworker_fuzz
