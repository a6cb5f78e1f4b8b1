// The OpenAI-compatible plugin's pure logic: reading and sizing completion and chat requests,
// adding the served model's name, the benchmark payload and counting streamed output. No SDK, so
// it is unit-tested on its own.
#pragma once

#include "../common/random_words.hpp"

#include <boost/json.hpp>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace openai_plugin {

namespace json = boost::json;

enum class Api { completions, chat };

// max_tokens when a request names none. Completions: 16, OpenAI's and vLLM's default. Chat: the
// servers generate until end of sequence or the context is full, so no number is right; 256 stands
// for a typical answer. Both configurable, see README.md.
struct Defaults {
    uint64_t completion_max_tokens = 16;
    uint64_t chat_max_tokens = 256;
};

// The benchmark (core/protocol.md §11 vLLM: 250 random words, max_tokens 500, concurrency 100, runs 2).
inline constexpr uint32_t benchmark_words = 250;
inline constexpr uint64_t benchmark_max_tokens = 500;

struct Sizing {
    uint64_t prompt_tokens = 0;  // estimated, summed over the prompts of a batched completion
    uint64_t prompts = 1;        // a completion's prompt list is that many generations
    uint64_t max_tokens = 0;
    uint64_t choices = 1;        // n (or best_of, when larger): sequences generated per prompt
    bool stream = false;
    bool has_model = false;
};

// Tokens of text, estimated as OpenAI's rule of thumb: 4 bytes of (English) text per token.
inline uint64_t approx_tokens(std::string_view text) { return (text.size() + 3) / 4; }

// The value as a positive integer, or 0 when it is not one.
inline uint64_t positive(const json::value& v) {
    if (v.is_int64()) return v.get_int64() > 0 ? static_cast<uint64_t>(v.get_int64()) : 0;
    if (v.is_uint64()) return v.get_uint64();
    return 0;
}

namespace detail {

inline const json::value* present(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v == nullptr || v->is_null() ? nullptr : v;
}

inline uint64_t optional_positive(const json::object& o, std::string_view key, uint64_t fallback) {
    const auto* v = present(o, key);
    if (v == nullptr) return fallback;
    const auto n = positive(*v);
    if (n == 0) throw std::invalid_argument("\"" + std::string(key) + "\" must be a positive integer");
    return n;
}

inline bool token_ids(const json::value& v) {
    if (!v.is_array() || v.get_array().empty()) return false;
    for (const auto& t : v.get_array()) {
        if (!t.is_int64() && !t.is_uint64()) return false;
    }
    return true;
}

// prompt: a string, a list of strings, a list of token ids, or a list of lists of token ids.
inline void size_prompt(const json::value* prompt, Sizing& s) {
    const auto bad = [] { return std::invalid_argument("payload needs \"prompt\" as a string or a list of strings"); };
    if (prompt == nullptr) throw bad();
    if (prompt->is_string()) {
        s.prompt_tokens = approx_tokens(prompt->get_string());
        return;
    }
    if (token_ids(*prompt)) {
        s.prompt_tokens = prompt->get_array().size();
        return;
    }
    if (!prompt->is_array() || prompt->get_array().empty()) throw bad();
    s.prompts = prompt->get_array().size();
    for (const auto& p : prompt->get_array()) {
        if (p.is_string()) {
            s.prompt_tokens += approx_tokens(p.get_string());
        } else if (token_ids(p)) {
            s.prompt_tokens += p.get_array().size();
        } else {
            throw bad();
        }
    }
}

// The text of a message's content: a string, or parts of which those of type "text" count (an
// image's tokens depend on the model; they are left out).
inline uint64_t content_bytes(const json::value* content) {
    if (content == nullptr) return 0;
    if (content->is_string()) return content->get_string().size();
    uint64_t n = 0;
    if (content->is_array()) {
        for (const auto& part : content->get_array()) {
            if (!part.is_object()) continue;
            const auto* text = part.get_object().if_contains("text");
            if (text != nullptr && text->is_string()) n += text->get_string().size();
        }
    }
    return n;
}

inline void size_messages(const json::value* messages, Sizing& s) {
    if (messages == nullptr || !messages->is_array()) {
        throw std::invalid_argument("payload needs \"messages\" as a list of message objects");
    }
    uint64_t bytes = 0;
    for (const auto& m : messages->get_array()) {
        if (!m.is_object()) throw std::invalid_argument("each of \"messages\" must be an object");
        bytes += content_bytes(m.get_object().if_contains("content"));
    }
    s.prompt_tokens = (bytes + 3) / 4;
}

}  // namespace detail

// Reads a request body; throws std::invalid_argument (422) naming the field when it is not one.
inline Sizing read_request(std::string_view payload, Api api, const Defaults& defaults = {}) {
    unsigned char buffer[4096];  // a typical payload parses without touching the heap
    json::monotonic_resource scratch(buffer, sizeof buffer);
    boost::system::error_code ec;
    const json::value v = json::parse(payload, ec, &scratch);
    if (ec || !v.is_object()) throw std::invalid_argument("payload must be a JSON object");
    const auto& o = v.get_object();
    Sizing s;
    if (api == Api::completions) {
        detail::size_prompt(detail::present(o, "prompt"), s);
        s.max_tokens = detail::optional_positive(o, "max_tokens", defaults.completion_max_tokens);
    } else {
        detail::size_messages(o.if_contains("messages"), s);
        // max_completion_tokens replaces max_tokens in OpenAI's chat API; servers honour either.
        s.max_tokens = detail::optional_positive(
            o, "max_completion_tokens", detail::optional_positive(o, "max_tokens", defaults.chat_max_tokens));
    }
    const auto n = detail::optional_positive(o, "n", 1);
    const auto best_of = api == Api::completions ? detail::optional_positive(o, "best_of", 1) : 1;
    s.choices = n > best_of ? n : best_of;
    const auto* stream = o.if_contains("stream");
    s.stream = stream != nullptr && stream->is_bool() && stream->get_bool();
    s.has_model = detail::present(o, "model") != nullptr;
    return s;
}

// Workload in tokens: the prompt's estimated tokens plus the tokens it may generate, for every
// prompt and every sequence asked for. PyWorker's OpenAI workers count tokens (core/protocol.md
// §11) without saying which; counting both is this plugin's choice.
inline double workload(const Sizing& s) {
    return static_cast<double>(s.prompt_tokens + s.prompts * s.choices * s.max_tokens);
}

// The body with "model": `model` added (a payload that names one keeps it).
inline std::string with_model(std::string_view payload, std::string_view model) {
    json::value v = json::parse(payload);
    auto& o = v.as_object();
    if (const auto* m = o.if_contains("model"); m != nullptr && !m->is_null()) return std::string(payload);
    o["model"] = model;
    return json::serialize(v);
}

// The first model id of a GET /v1/models answer ({"object": "list", "data": [{"id": ...}]}).
inline std::optional<std::string> first_model_id(std::string_view models_answer) {
    boost::system::error_code ec;
    const json::value v = json::parse(models_answer, ec);
    if (ec || !v.is_object()) return std::nullopt;
    const auto* data = v.get_object().if_contains("data");
    if (data == nullptr || !data->is_array() || data->get_array().empty()) return std::nullopt;
    const auto& first = data->get_array().front();
    if (!first.is_object()) return std::nullopt;
    const auto* id = first.get_object().if_contains("id");
    if (id == nullptr || !id->is_string() || id->get_string().empty()) return std::nullopt;
    return std::string(id->get_string());
}

inline std::string benchmark_payload(uint32_t index, std::string_view model,
                                     uint64_t max_tokens = benchmark_max_tokens) {
    json::object o{{"prompt", plugin_common::random_words(index, benchmark_words)}, {"max_tokens", max_tokens}};
    if (!model.empty()) o["model"] = model;
    return json::serialize(o);
}

// How many choices of one streamed chunk carry generated output: completion "text", or a chat
// delta's "content", "reasoning_content" or "tool_calls". A role-only first delta, a usage-only
// chunk and "[DONE]" carry none. About one token each with vLLM.
inline uint64_t output_chunks(std::string_view event_data) noexcept {
    try {
        boost::system::error_code ec;
        unsigned char buffer[2048];  // a typical chunk parses without touching the heap
        json::monotonic_resource scratch(buffer, sizeof buffer);
        const json::value v = json::parse(event_data, ec, &scratch);
        if (ec || !v.is_object()) return 0;
        const auto* choices = v.get_object().if_contains("choices");
        if (choices == nullptr || !choices->is_array()) return 0;
        const auto non_empty = [](const json::object& o, std::string_view key) {
            const auto* f = o.if_contains(key);
            return f != nullptr && ((f->is_string() && !f->get_string().empty()) ||
                                    (f->is_array() && !f->get_array().empty()));
        };
        uint64_t n = 0;
        for (const auto& c : choices->get_array()) {
            if (!c.is_object()) continue;
            const auto& choice = c.get_object();
            const auto* delta = choice.if_contains("delta");
            const bool output =
                non_empty(choice, "text") ||
                (delta != nullptr && delta->is_object() &&
                 (non_empty(delta->get_object(), "content") || non_empty(delta->get_object(), "reasoning_content") ||
                  non_empty(delta->get_object(), "tool_calls")));
            if (output) ++n;
        }
        return n;
    } catch (...) {  // out of memory: the relay goes on, uncounted
        return 0;
    }
}

}  // namespace openai_plugin
