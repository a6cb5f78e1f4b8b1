#pragma once

#include <string_view>

namespace cppworker::upstream {

// Whether the model server's answer streams, by PyWorker's rules (core/protocol.md §4.4): an SSE,
// NDJSON or JSON-lines content type, one that names "stream", or chunked transfer.
bool is_streaming_answer(std::string_view content_type, bool chunked);

// Whether a header of the model server's answer goes on to the client. Not those that describe
// one hop's connection or framing (Connection, Transfer-Encoding, Content-Length, ...), which the
// worker sets for its own; not Content-Type, which travels apart.
bool is_relayed_header(std::string_view header_name);

}  // namespace cppworker::upstream
