// upstream::is_streaming_answer and is_relayed_header against the rules as documented, and
// case-insensitive: any ASCII case of a content type or header name gives the same answer.
#include "fuzz_support.hpp"

#include "upstream/answer_rules.hpp"

#include <array>
#include <string>

namespace cppworker_fuzz {
namespace {

bool streaming_model(std::string_view content_type, bool chunked) {
    if (chunked) return true;
    const std::string type = ascii_lower(content_type);
    std::string media = type.substr(0, type.find(';'));
    while (!media.empty() && (media.back() == ' ' || media.back() == '\t')) media.pop_back();
    return type.starts_with("text/event-stream") || media == "application/x-ndjson" || media == "application/jsonl" ||
           type.find("stream") != std::string::npos;
}

bool relayed_model(std::string_view name) {
    static constexpr std::array<std::string_view, 11> hop = {
        "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
        "upgrade", "proxy-connection", "transfer-encoding", "content-length", "content-type"};
    const std::string lower = ascii_lower(name);
    for (auto h : hop)
        if (lower == h) return false;
    return true;
}

}  // namespace

int run_answer_rules(const uint8_t* data, std::size_t size) {
    Reader in(data, size);
    const bool chunked = in.flag();
    const std::string text(in.rest());
    const bool streaming = cppworker::upstream::is_streaming_answer(text, chunked);
    FUZZ_CHECK(streaming == streaming_model(text, chunked));
    FUZZ_CHECK(cppworker::upstream::is_streaming_answer(ascii_upper(text), chunked) == streaming);
    FUZZ_CHECK(cppworker::upstream::is_streaming_answer(text, true));
    // Parameters never make a streaming type non-streaming.
    if (streaming) FUZZ_CHECK(cppworker::upstream::is_streaming_answer(text + "; charset=utf-8", false) || chunked);

    const bool relayed = cppworker::upstream::is_relayed_header(text);
    FUZZ_CHECK(relayed == relayed_model(text));
    FUZZ_CHECK(cppworker::upstream::is_relayed_header(ascii_upper(text)) == relayed);
    FUZZ_CHECK(cppworker::upstream::is_relayed_header(ascii_lower(text)) == relayed);
    return 0;
}

}  // namespace cppworker_fuzz
