#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cppworker::http1 {

// How an answer's body is delimited.
enum class Framing { length, chunked };

// The head of every answer the worker writes, whole or streamed, as bytes: the status line,
// Server, Date, Content-Type (when not empty), the answer's own fields but for any framing or
// Connection field among them (the writer's to set), then Content-Length or Transfer-Encoding,
// then Connection where `keep_alive` differs from the version's default. `version` is Beast's: 11
// or 10. A 1xx, 204 or 304 answer has no body and so no Content-Length. Appended to `out`: a
// connection writes every answer's head into the one buffer it keeps.
void answer_head(std::string& out, unsigned version, unsigned status, std::string_view content_type,
                 const std::vector<std::pair<std::string, std::string>>& headers, Framing framing,
                 std::size_t content_length, bool keep_alive);

// 1xx, 204 and 304 answers carry no body.
bool bodiless(unsigned status);

}  // namespace cppworker::http1
