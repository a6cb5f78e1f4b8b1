#include "engine_api.hpp"

#include <boost/json.hpp>

#include <fmt/format.h>

namespace cppworker::load {
namespace json = boost::json;
using boost::asio::awaitable;
using namespace std::chrono_literals;

awaitable<std::variant<EndpointRef, std::string>> find_endpoint(HttpClient& client, const Url& engine,
                                                                 const std::string& name,
                                                                 const std::string& account_key) {
    const auto answer = co_await client.request(engine, "GET", "/api/v0/endptjobs/?client_id=me", "", account_key, 10s);
    if (answer.status == 0) co_return fmt::format("the engine at {}: {}", engine.origin(), answer.error);
    if (answer.status != 200) {
        co_return fmt::format("the engine at {} answered {} to GET /api/v0/endptjobs/ (is --api-key the account key?): {}",
                              engine.origin(), answer.status, answer.body.substr(0, 200));
    }
    json::error_code ec;
    const auto doc = json::parse(answer.body, ec);
    const auto* results = !ec && doc.is_object() ? doc.get_object().if_contains("results") : nullptr;
    if (results == nullptr || !results->is_array()) co_return std::string("the endpoint list is not {\"results\": [...]}");
    std::string known;
    for (const auto& e : results->get_array()) {
        if (!e.is_object()) continue;
        const auto& o = e.get_object();
        const auto* n = o.if_contains("endpoint_name");
        if (n == nullptr || !n->is_string()) continue;
        if (n->get_string() == name) {
            const auto* id = o.if_contains("id");
            const auto* key = o.if_contains("api_key");
            if (id == nullptr || !id->is_number() || key == nullptr || !key->is_string()) {
                co_return fmt::format("endpoint {} has no id or api_key in the list", name);
            }
            co_return EndpointRef{id->to_number<int64_t>(), std::string(key->get_string())};
        }
        known += (known.empty() ? "" : ", ") + std::string(n->get_string());
    }
    co_return fmt::format("no endpoint named {} at {} (it has: {})", name, engine.origin(), known.empty() ? "none" : known);
}

awaitable<std::map<std::string, int>> worker_states(HttpClient& client, const Url& engine, int64_t id,
                                                    const std::string& account_key) {
    const auto body = json::serialize(json::object{{"id", id}, {"api_key", account_key}});
    const auto answer = co_await client.request(engine, "POST", "/get_endpoint_workers/", body, account_key, 5s);
    std::map<std::string, int> counts;
    json::error_code ec;
    const auto doc = json::parse(answer.body, ec);
    if (answer.status != 200 || ec || !doc.is_array()) co_return counts;
    for (const auto& w : doc.get_array()) {
        const auto* status = w.is_object() ? w.get_object().if_contains("status") : nullptr;
        if (status != nullptr && status->is_string()) ++counts[std::string(status->get_string())];
    }
    co_return counts;
}

}  // namespace cppworker::load
