#pragma once

#include <string>

namespace cppworker::server {

// An answer the core makes without the plugin.
struct CoreReply {
    unsigned status;
    std::string body;  // JSON as Python's json.dumps writes it (pyjson::dumps), or empty
};

}  // namespace cppworker::server
