// The web API Vast's client uses to find and manage endpoints and workergroups, and to list an
// endpoint's workers (../shared/protocol.md §13.4). Every call carries the account key.
#include "api/api.hpp"

#include "auth/random_token.hpp"

#include <boost/json.hpp>

#include <spdlog/spdlog.h>

#include <charconv>

namespace cppworker::engine {
namespace json = boost::json;

namespace {

// "<id>/" after a collection's path; empty for the collection itself, nullopt when not an id.
std::optional<std::optional<int64_t>> id_in(std::string_view rest) {
    if (rest.empty()) return std::optional<int64_t>();
    if (!rest.ends_with('/')) return std::nullopt;
    rest.remove_suffix(1);
    int64_t id = 0;
    const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), id);
    if (ec != std::errc() || end != rest.data() + rest.size()) return std::nullopt;
    return std::optional<int64_t>(id);
}

std::optional<json::object> body_object(const ApiRequest& r) {
    json::error_code ec;
    auto doc = json::parse(r.body.empty() ? std::string_view("{}") : std::string_view(r.body), ec);
    if (ec || !doc.is_object()) return std::nullopt;
    return std::move(doc.get_object());
}

json::object group_json(const Workergroup& g) {
    json::object o = g.as_created;
    o["id"] = g.id;
    o["endpoint_id"] = g.endpoint_id;
    return o;
}

}  // namespace

http1::Reply Api::web(const ApiRequest& r) {
    if (!account_key_given(r)) return http1::error_reply(401, "Authentication failed");
    constexpr std::string_view endpoints_path = "/api/v0/endptjobs/", groups_path = "/api/v0/workergroups/";
    if (r.path.starts_with(endpoints_path)) return endpoints(r, std::string_view(r.path).substr(endpoints_path.size()));
    if (r.path.starts_with(groups_path)) return workergroups(r, std::string_view(r.path).substr(groups_path.size()));
    return http1::error_reply(404, "no such path: " + r.path);
}

http1::Reply Api::endpoints(const ApiRequest& r, std::string_view rest) {
    const auto id = id_in(rest);
    if (!id) return http1::error_reply(404, "no such path: " + r.path);
    if (!*id && r.method == "GET") {
        json::array results;
        for (const auto& [eid, e] : parts_.fleet.endpoints()) results.push_back(endpoint_json(e.endpoint));
        return json_answer(200, json::object{{"results", std::move(results)}});
    }
    if (!*id && r.method == "POST") {
        const auto body = body_object(r);
        if (!body) return http1::error_reply(400, "the body must be a JSON object");
        auto created = create_endpoint(*body);
        if (auto* error = std::get_if<std::string>(&created)) return http1::error_reply(400, *error);
        return json_answer(200, json::object{{"success", true}, {"result", std::get<int64_t>(created)}});
    }
    if (!*id) return http1::error_reply(405, r.method + " is not allowed on " + r.path);
    auto* entry = parts_.fleet.endpoint(**id);
    if (entry == nullptr) return http1::error_reply(404, "no endpoint " + std::to_string(**id));
    if (r.method == "GET") return json_answer(200, json::object{{"result", endpoint_json(entry->endpoint)}});
    if (r.method == "DELETE") {
        spdlog::info("endpoint {} ({}) deleted; its workers go", entry->endpoint.id, entry->endpoint.name);
        parts_.retire(parts_.fleet.remove_endpoint(**id));
        return json_answer(200, json::object{{"success", true}});
    }
    return http1::error_reply(405, r.method + " is not allowed on " + r.path);
}

http1::Reply Api::workergroups(const ApiRequest& r, std::string_view rest) {
    const auto id = id_in(rest);
    if (!id) return http1::error_reply(404, "no such path: " + r.path);
    if (!*id && r.method == "GET") {
        json::array results;
        for (const auto& [gid, g] : parts_.fleet.groups()) results.push_back(group_json(g));
        return json_answer(200, json::object{{"results", std::move(results)}});
    }
    if (!*id && r.method == "POST") {
        const auto body = body_object(r);
        if (!body) return http1::error_reply(400, "the body must be a JSON object");
        auto created = create_group(*body);
        if (auto* error = std::get_if<std::string>(&created)) return http1::error_reply(400, *error);
        return json_answer(200, json::object{{"success", true}, {"id", std::get<int64_t>(created)}});
    }
    if (*id && r.method == "DELETE") {
        if (parts_.fleet.group(**id) == nullptr) return http1::error_reply(404, "no workergroup " + std::to_string(**id));
        spdlog::info("workergroup {} deleted; its workers go", **id);
        parts_.retire(parts_.fleet.remove_group(**id));
        return json_answer(200, json::object{{"success", true}});
    }
    return http1::error_reply(405, r.method + " is not allowed on " + r.path);
}

std::variant<int64_t, std::string> Api::create_endpoint(const json::object& fields) {
    const auto* name = fields.if_contains("endpoint_name");
    if (name == nullptr || !name->is_string() || name->get_string().empty()) {
        return std::string("endpoint_name must be a non-empty string");
    }
    if (parts_.fleet.endpoint_named(name->get_string()) != nullptr) {
        return "an endpoint named " + std::string(name->get_string()) + " exists already";
    }
    Endpoint e;
    e.name = std::string(name->get_string());
    e.created_at = parts_.now();
    if (auto error = read_params(fields, e.params)) return *error;
    const auto* key = fields.if_contains("api_key");
    if (key != nullptr && (!key->is_string() || key->get_string().empty())) return std::string("api_key must be a string");
    e.api_key = key != nullptr ? std::string(key->get_string()) : auth::random_token();
    const auto* groups = fields.if_contains("workergroups");
    if (groups != nullptr && !groups->is_array()) return std::string("workergroups must be a list");
    const auto& entry = parts_.fleet.add_endpoint(std::move(e));
    const int64_t id = entry.endpoint.id;
    spdlog::info("endpoint {} ({}) created: its API key is {}", id, entry.endpoint.name, entry.endpoint.api_key);
    for (const auto& g : groups ? groups->get_array() : json::array{}) {
        json::object group = g.is_object() ? g.get_object() : json::object{};
        group["endpoint_id"] = id;
        auto created = create_group(group);
        if (auto* error = std::get_if<std::string>(&created)) {
            parts_.fleet.remove_endpoint(id);
            return "workergroups: " + *error;
        }
    }
    return id;
}

std::variant<int64_t, std::string> Api::create_group(const json::object& fields) {
    Workergroup g;
    const auto* endpoint_id = fields.if_contains("endpoint_id");
    const auto* endpoint_name = fields.if_contains("endpoint_name");
    const EndpointEntry* entry = nullptr;
    if (endpoint_id != nullptr && (endpoint_id->is_int64() || endpoint_id->is_uint64())) {
        entry = parts_.fleet.endpoint(endpoint_id->to_number<int64_t>());
    } else if (endpoint_name != nullptr && endpoint_name->is_string()) {
        entry = parts_.fleet.endpoint_named(endpoint_name->get_string());
    } else {
        return std::string("endpoint_id or endpoint_name must name the endpoint");
    }
    if (entry == nullptr) return std::string("no such endpoint");
    // Vast names a template by its hash or its id; here both name one of the engine's templates.
    const json::value* name = fields.if_contains("template_hash");
    if (name == nullptr || name->is_null()) name = fields.if_contains("template_id");
    if (name == nullptr || !(name->is_string() || name->is_int64())) {
        return std::string("template_hash or template_id must name a template");
    }
    g.template_name = name->is_string() ? std::string(name->get_string()) : std::to_string(name->get_int64());
    if (!parts_.config.templates.contains(g.template_name)) {
        std::string known;
        for (const auto& [t, _] : parts_.config.templates) known += (known.empty() ? "" : ", ") + t;
        return "no template " + g.template_name + " (the config file has: " + (known.empty() ? "none" : known) + ")";
    }
    ScalingParams check = entry->endpoint.params;
    if (auto error = read_params(fields, check)) return *error;
    for (const char* param : {"min_load", "target_util", "cold_mult", "min_cold_load", "cold_workers", "max_workers",
                              "inactivity_timeout", "max_queue_time", "target_queue_time"}) {
        if (const auto* v = fields.if_contains(param); v != nullptr && !v->is_null()) g.overrides[param] = *v;
    }
    g.endpoint_id = entry->endpoint.id;
    g.as_created = fields;
    g.as_created.erase("api_key");
    const auto& added = parts_.fleet.add_group(std::move(g));
    spdlog::info("workergroup {} of endpoint {}: template {}", added.id, added.endpoint_id, added.template_name);
    return added.id;
}

http1::Reply Api::endpoint_workers(const ApiRequest& r) {
    const auto body = body_object(r);
    if (!body) return http1::error_reply(400, "the body must be a JSON object");
    // The client turns an error_msg into an empty list, as Vast answers before a group has workers.
    if (!account_key_given(r, &*body)) return json_answer(200, json::object{{"error_msg", "Authentication failed"}});
    const auto* id = body->if_contains("id");
    if (id == nullptr || (!id->is_int64() && !id->is_uint64())) {
        return json_answer(200, json::object{{"error_msg", "id must be the endpoint's id"}});
    }
    if (parts_.fleet.endpoint(id->to_number<int64_t>()) == nullptr) {
        return json_answer(200, json::object{{"error_msg", "no endpoint " + std::to_string(id->to_number<int64_t>())}});
    }
    json::array workers;
    for (const auto* w : parts_.fleet.workers_of_endpoint(id->to_number<int64_t>())) workers.push_back(worker_json(*w));
    return json_answer(200, workers);
}

// A rolling update: each running worker of the group reloads its plugin afresh (a supervised
// worker's SIGHUP, launch/reload.sh), with no request failed; stopped ones take the new code
// when they start.
http1::Reply Api::update_workers(const ApiRequest& r) {
    const auto body = body_object(r);
    if (!body) return http1::error_reply(400, "the body must be a JSON object");
    if (!account_key_given(r, &*body)) return http1::error_reply(401, "Authentication failed");
    const auto* id = body->if_contains("workergroup_id");
    if (id == nullptr || (!id->is_int64() && !id->is_uint64())) {
        return http1::error_reply(400, "workergroup_id must be the workergroup's id");
    }
    if (parts_.fleet.group(id->to_number<int64_t>()) == nullptr) {
        return http1::error_reply(404, "no workergroup " + std::to_string(id->to_number<int64_t>()));
    }
    std::vector<int64_t> running;
    for (const auto* w : parts_.fleet.workers_of_group(id->to_number<int64_t>())) {
        if (w->state != WorkerState::stopped && w->state != WorkerState::stopping) running.push_back(w->id);
    }
    parts_.reload(running);
    return json_answer(200, json::object{{"success", true}, {"workers_updated", running.size()}});
}

}  // namespace cppworker::engine
