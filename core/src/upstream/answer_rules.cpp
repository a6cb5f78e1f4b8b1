#include "upstream/answer_rules.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>

namespace cppworker::upstream {
namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

}  // namespace

bool is_streaming_answer(std::string_view content_type, bool chunked) {
    if (chunked) return true;
    const std::string type = lower(content_type);
    // PyWorker compares the media type without parameters ("; charset=...") for the exact names.
    const std::string media = type.substr(0, type.find(';'));
    auto trimmed = media;
    trimmed.erase(trimmed.find_last_not_of(" \t") + 1);
    return type.starts_with("text/event-stream") || trimmed == "application/x-ndjson" ||
           trimmed == "application/jsonl" || type.find("stream") != std::string::npos;
}

bool is_relayed_header(std::string_view header_name) {
    static constexpr std::array<std::string_view, 11> not_relayed = {
        "connection", "keep-alive",     "proxy-authenticate", "proxy-authorization", "te",          "trailer",
        "upgrade",    "proxy-connection", "transfer-encoding", "content-length",      "content-type"};
    const std::string name = lower(header_name);
    return std::find(not_relayed.begin(), not_relayed.end(), name) == not_relayed.end();
}

}  // namespace cppworker::upstream
