// The dashboard (README "The dashboard"): the page at / and what it loads, embedded into the
// engine, and GET /api/dashboard/, the history it draws, with the account key.
#include "api/api.hpp"
#include "api/dashboard_assets.hpp"

#include "history/history_json.hpp"

#include <charconv>

namespace cppworker::engine {

std::optional<http1::Reply> Api::dashboard(const ApiRequest& r) {
    if (r.method != "GET") return std::nullopt;
    if (r.path == "/api/dashboard/") return dashboard_data(r);
    const auto* asset = dashboard_asset(r.path);
    if (asset == nullptr) return std::nullopt;
    // The page holds no data (those come with the key), and may load nothing but the engine's own.
    return http1::Reply{200,
                        std::string(asset->content_type),
                        std::string(asset->body),
                        {{"Cache-Control", "no-cache"},
                         {"X-Content-Type-Options", "nosniff"},
                         {"Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'"}}};
}

http1::Reply Api::dashboard_data(const ApiRequest& r) {
    if (!account_key_given(r)) return http1::error_reply(401, "Authentication failed");
    uint64_t since = 0;
    if (const auto it = r.query.find("since"); it != r.query.end()) {
        const auto& text = it->second;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), since);
        if (ec != std::errc() || end != text.data() + text.size()) {
            return http1::error_reply(400, "since must be an integer >= 0: the `last` of the previous answer");
        }
    }
    const auto workers = r.query.find("workers");
    const bool all_workers = workers != r.query.end() && workers->second == "all";
    if (workers != r.query.end() && !all_workers) return http1::error_reply(400, "workers must be \"all\" or absent");
    std::map<int64_t, std::string> names;
    for (const auto& [id, entry] : parts_.fleet.endpoints()) names[id] = entry.endpoint.name;
    const auto& history = parts_.history;
    return json_answer(200, history_json(history.since(since), names, history.limits(), parts_.config.tick_seconds, all_workers));
}

}  // namespace cppworker::engine
