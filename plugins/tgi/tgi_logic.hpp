// The TGI plugin's pure logic: reading and sizing a generate request, the benchmark payload and
// counting the tokens of a /generate_stream answer. No SDK, so it is unit-tested on its own.
#pragma once

#include "../common/random_words.hpp"
#include "../common/sse.hpp"

#include <boost/json.hpp>

#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>

namespace tgi_plugin {

namespace json = boost::json;

// TGI's default when a request names no max_new_tokens: 100 since TGI 1.2 (router/src/lib.rs,
// default_max_new_tokens), 20 before. Configurable, see README.md.
inline constexpr uint64_t default_max_new_tokens = 100;

// The benchmark (core/protocol.md §11: max_new_tokens 128, concurrency 50; prompts of random words).
inline constexpr uint32_t benchmark_words = 250;
inline constexpr uint64_t benchmark_max_new_tokens = 128;

// The value as a positive integer that fits TGI's u32, or 0 when it is not one (TGI's serde also
// refuses 128.0).
inline uint64_t positive_u32(const json::value& v) {
    if (v.is_int64()) {
        const auto i = v.get_int64();
        return i > 0 && i <= std::numeric_limits<uint32_t>::max() ? static_cast<uint64_t>(i) : 0;
    }
    if (v.is_uint64()) {
        const auto u = v.get_uint64();
        return u <= std::numeric_limits<uint32_t>::max() ? u : 0;
    }
    return 0;
}

// The tokens a generate request asks for; throws std::invalid_argument (422) naming the field
// when the payload is not a TGI GenerateRequest.
inline uint64_t max_new_tokens(std::string_view payload, uint64_t fallback = default_max_new_tokens) {
    unsigned char buffer[4096];  // a typical payload parses without touching the heap
    json::monotonic_resource scratch(buffer, sizeof buffer);
    boost::system::error_code ec;
    const json::value v = json::parse(payload, ec, &scratch);
    if (ec || !v.is_object()) throw std::invalid_argument("payload must be a JSON object");
    const auto& request = v.get_object();
    const auto* inputs = request.if_contains("inputs");
    if (inputs == nullptr || !inputs->is_string()) throw std::invalid_argument("payload needs \"inputs\" as a string");
    const auto* parameters = request.if_contains("parameters");
    if (parameters == nullptr || parameters->is_null()) return fallback;
    if (!parameters->is_object()) throw std::invalid_argument("\"parameters\" must be an object");
    const auto* n = parameters->get_object().if_contains("max_new_tokens");
    if (n == nullptr || n->is_null()) return fallback;
    const auto tokens = positive_u32(*n);
    if (tokens == 0) throw std::invalid_argument("\"parameters.max_new_tokens\" must be a positive integer");
    return tokens;
}

// The workload unit is the generated token (core/protocol.md §11: parameters.max_new_tokens), as
// PyWorker's TGI worker.
inline double workload(std::string_view payload, uint64_t fallback = default_max_new_tokens) {
    return static_cast<double>(max_new_tokens(payload, fallback));
}

inline std::string benchmark_payload(uint32_t index) {
    return json::serialize(json::object{
        {"inputs", plugin_common::random_words(index, benchmark_words)},
        {"parameters", json::object{{"max_new_tokens", benchmark_max_new_tokens}}},
    });
}

// 1 when one SSE event of /generate_stream carries a generated token ({"token": {...}, ...}),
// 0 for anything else (an {"error": ...} event, a comment, malformed data).
inline uint64_t token_events(std::string_view event_data) noexcept {
    try {
        boost::system::error_code ec;
        unsigned char buffer[1024];
        json::monotonic_resource scratch(buffer, sizeof buffer);
        const json::value v = json::parse(event_data, ec, &scratch);
        if (ec || !v.is_object()) return 0;
        const auto* token = v.get_object().if_contains("token");
        return token != nullptr && token->is_object() ? 1 : 0;
    } catch (...) {  // out of memory: the relay goes on, uncounted
        return 0;
    }
}

// Counts the tokens of one stream fed piece by piece, wherever the pieces split it.
class TokenCounter {
public:
    uint64_t feed(std::string_view piece) {
        uint64_t n = 0;
        splitter_.feed(piece, [&n](std::string_view event) { n += token_events(event); });
        return n;
    }
    uint64_t finish() {
        uint64_t n = 0;
        splitter_.finish([&n](std::string_view event) { n += token_events(event); });
        return n;
    }

private:
    plugin_common::SseSplitter splitter_;
};

}  // namespace tgi_plugin
