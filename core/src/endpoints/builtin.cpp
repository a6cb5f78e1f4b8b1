#include "endpoints/builtin.hpp"

#include "endpoints/update.hpp"

#include <fmt/format.h>

namespace cppworker::endpoints {
namespace {

http1::Reply wrong_method(std::string_view path, std::string_view allowed) {
    auto reply = http1::error_reply(405, fmt::format("{} takes {}", path, allowed));
    reply.headers.emplace_back("Allow", allowed);
    return reply;
}

bool is_get_path(std::string_view path) {
    return path == "/ping" || path == "/healthz" || path == "/readyz" || path == "/metrics";
}

}  // namespace

BuiltinEndpoints::BuiltinEndpoints(Sources sources, SessionEndpoints& sessions, UpdateSettings update)
    : sources_(std::move(sources)), sessions_(sessions), update_(std::move(update)) {}

std::optional<http1::Reply> BuiltinEndpoints::answer(std::string_view method, std::string_view path,
                                                     std::string_view body, std::string_view authorization) {
    const bool update = path == "/pyworker/update";
    if (update || SessionEndpoints::is_session_path(path)) {
        if (method != "POST") return wrong_method(path, "POST");
        if (update) return pyworker_update(update_.master_token, update_.force_update_file, authorization);
        return sessions_.answer(path, body);
    }
    if (!is_get_path(path)) return std::nullopt;
    if (method != "GET") return wrong_method(path, "GET");
    return answer_get(path);
}

http1::Reply BuiltinEndpoints::answer_get(std::string_view path) {
    if (path == "/ping") return http1::Reply{200, "text/plain", "pong"};
    if (path == "/healthz") return http1::json_reply(200, R"({"status": "alive"})");
    if (path == "/readyz") {
        const bool ready = sources_.ready();
        return http1::json_reply(ready ? 200 : 503, ready ? R"({"ready": true})" : R"({"ready": false})");
    }
    return http1::Reply{200, "text/plain; version=0.0.4", sources_.metrics()};
}

}  // namespace cppworker::endpoints
