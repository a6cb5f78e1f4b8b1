#include "upstream/answer_rules.hpp"

#include <boost/beast/core/string.hpp>

#include <algorithm>
#include <array>

namespace cppworker::upstream {
namespace {

namespace beast = boost::beast;

bool contains_ignoring_case(std::string_view text, std::string_view part) {
    if (part.size() > text.size()) return false;
    for (std::size_t i = 0; i + part.size() <= text.size(); ++i) {
        if (beast::iequals(text.substr(i, part.size()), part)) return true;
    }
    return false;
}

std::string_view trimmed_right(std::string_view s) {
    const auto end = s.find_last_not_of(" \t");
    return end == std::string_view::npos ? std::string_view() : s.substr(0, end + 1);
}

}  // namespace

// Compared in place, without case: this runs for every forwarded answer.
bool is_streaming_answer(std::string_view content_type, bool chunked) {
    if (chunked) return true;
    // PyWorker compares the media type without parameters ("; charset=...") for the exact names.
    const auto media = trimmed_right(content_type.substr(0, content_type.find(';')));
    constexpr std::string_view event_stream = "text/event-stream";
    return (content_type.size() >= event_stream.size() &&
            beast::iequals(content_type.substr(0, event_stream.size()), event_stream)) ||
           beast::iequals(media, "application/x-ndjson") || beast::iequals(media, "application/jsonl") ||
           contains_ignoring_case(content_type, "stream");
}

bool is_relayed_header(std::string_view header_name) {
    static constexpr std::array<std::string_view, 11> not_relayed = {
        "connection", "keep-alive",     "proxy-authenticate", "proxy-authorization", "te",          "trailer",
        "upgrade",    "proxy-connection", "transfer-encoding", "content-length",      "content-type"};
    return std::none_of(not_relayed.begin(), not_relayed.end(),
                        [&](std::string_view name) { return beast::iequals(name, header_name); });
}

}  // namespace cppworker::upstream
