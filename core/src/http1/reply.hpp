#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cppworker::http1 {

// A whole answer as the worker makes it: status, content type, body and any fields of its own. The
// framing (Content-Length, Connection) and Server and Date are the writer's to add.
struct Reply {
    unsigned status = 200;
    std::string content_type;  // empty: no Content-Type field
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers = {};
};

// Just a status: no Content-Type, an empty body.
Reply empty_reply(unsigned status);
// `body` is JSON text.
Reply json_reply(unsigned status, std::string body);
// {"error": message}, as Python's json.dumps writes it.
Reply error_reply(unsigned status, std::string_view message);

}  // namespace cppworker::http1
