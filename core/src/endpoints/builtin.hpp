#pragma once

#include "endpoints/sessions.hpp"
#include "http1/reply.hpp"

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace cppworker::endpoints {

// The routes the worker answers itself, which no plugin may claim (plugin::is_builtin_path):
// GET /ping, /healthz, /readyz and /metrics; POST the session API and /pyworker/update.
class BuiltinEndpoints {
public:
    struct Sources {
        std::function<bool()> ready;           // /readyz
        std::function<std::string()> metrics;  // /metrics, as Prometheus text
    };
    struct UpdateSettings {
        std::string master_token;
        std::filesystem::path force_update_file;
    };

    BuiltinEndpoints(Sources sources, SessionEndpoints& sessions, UpdateSettings update);

    // The answer when `path` is one of them (a 405 naming the method it takes, for another);
    // empty when it is not.
    std::optional<http1::Reply> answer(std::string_view method, std::string_view path, std::string_view body,
                                       std::string_view authorization);

private:
    http1::Reply answer_get(std::string_view path);

    Sources sources_;
    SessionEndpoints& sessions_;
    UpdateSettings update_;
};

}  // namespace cppworker::endpoints
