#include "http1/reply.hpp"

#include "pyjson/dumps.hpp"

namespace cppworker::http1 {

Reply empty_reply(unsigned status) { return Reply{status, {}, {}}; }

Reply json_reply(unsigned status, std::string body) { return Reply{status, "application/json", std::move(body)}; }

Reply error_reply(unsigned status, std::string_view message) {
    return json_reply(status, pyjson::error_body(message));
}

}  // namespace cppworker::http1
