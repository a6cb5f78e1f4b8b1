#include "api/api.hpp"
#include "api/dashboard_assets.hpp"

#include "pyjson/dumps.hpp"

#include <openssl/crypto.h>

namespace cppworker::engine {
namespace json = boost::json;

bool key_matches(std::string_view given, std::string_view expected) {
    return !given.empty() && given.size() == expected.size() &&
           CRYPTO_memcmp(given.data(), expected.data(), given.size()) == 0;
}

http1::Reply json_answer(unsigned status, const json::value& value) {
    return http1::json_reply(status, pyjson::dumps(value));
}

std::string key_of(const ApiRequest& r, const json::object* body) {
    if (body != nullptr) {
        if (const auto* key = body->if_contains("api_key"); key != nullptr && key->is_string()) {
            return std::string(key->get_string());
        }
    }
    if (const auto it = r.query.find("api_key"); it != r.query.end()) return it->second;
    if (r.authorization.starts_with("Bearer ")) return r.authorization.substr(7);
    return {};
}

Api::Api(Parts parts) : parts_(std::move(parts)) {}

bool Api::account_key_given(const ApiRequest& r, const json::object* body) const {
    return key_matches(key_of(r, body), parts_.config.api_key);
}

http1::Reply Api::handle(const ApiRequest& r) {
    const auto& path = r.path;
    const bool post = r.method == "POST";
    if (path == "/route/" && post) return route(r);
    if (path == "/worker_status/" && post) return worker_status(r);
    if (path == "/delete_requests/" && post) return delete_requests(r);
    if (path == "/pubkey/" && r.method == "GET") return http1::Reply{200, "text/plain", parts_.key.public_pem()};
    if (path == "/get_endpoint_workers/" && post) return endpoint_workers(r);
    if (path == "/update_workers/" && post) return update_workers(r);
    if (path.starts_with("/api/v0/")) return web(r);
    if (auto page = dashboard(r)) return std::move(*page);
    const bool known = path == "/route/" || path == "/worker_status/" || path == "/delete_requests/" ||
                       path == "/pubkey/" || path == "/get_endpoint_workers/" || path == "/update_workers/" ||
                       path == "/api/dashboard/" || dashboard_asset(path) != nullptr;
    if (known) return http1::error_reply(405, r.method + " is not allowed on " + path);
    return http1::error_reply(404, "no such path: " + path);
}

}  // namespace cppworker::engine
