// POST /route/ (../shared/protocol.md §3): a worker for the client's request, signed as Vast signs
// it, or a waiting answer that keeps the request's place.
#include "api/api.hpp"

#include "auth/random_token.hpp"
#include "auth/signature_message.hpp"
#include "routing/route_queue.hpp"

#include <boost/json.hpp>

#include <spdlog/spdlog.h>

#include <cmath>
#include <map>

namespace cppworker::engine {
namespace json = boost::json;

namespace {

struct RouteCall {
    std::string endpoint;
    json::value cost = 100;  // echoed as the client wrote it
    double cost_value = 100;
    int64_t request_idx = 0;
    double replay_timeout = 60;
};

// The body's fields, checked; an error names each field that is wrong.
std::variant<RouteCall, json::object> read_route_call(const json::object& body) {
    RouteCall c;
    json::object problems;
    const auto* endpoint = body.if_contains("endpoint");
    if (endpoint == nullptr || !endpoint->is_string() || endpoint->get_string().empty()) {
        problems["endpoint"] = "must be the endpoint's name";
    } else {
        c.endpoint = std::string(endpoint->get_string());
    }
    if (const auto* cost = body.if_contains("cost"); cost != nullptr && !cost->is_null()) {
        if (!cost->is_number() || !std::isfinite(cost->to_number<double>()) || cost->to_number<double>() < 0) {
            problems["cost"] = "must be a number >= 0";
        } else {
            c.cost = *cost;
            c.cost_value = cost->to_number<double>();
        }
    }
    if (const auto* idx = body.if_contains("request_idx"); idx != nullptr && !idx->is_null()) {
        if ((!idx->is_int64() && !idx->is_uint64()) || idx->to_number<double>() < 0) {
            problems["request_idx"] = "must be an integer >= 0";
        } else {
            c.request_idx = idx->to_number<int64_t>();
        }
    }
    if (const auto* replay = body.if_contains("replay_timeout"); replay != nullptr && !replay->is_null()) {
        if (!replay->is_number() || !(replay->to_number<double>() > 0)) {
            problems["replay_timeout"] = "must be a number > 0";
        } else {
            c.replay_timeout = replay->to_number<double>();
        }
    }
    if (!problems.empty()) return problems;
    return c;
}

// "2 READY, 1 MODEL_LOADING": what the client is told while it waits.
std::string worker_summary(const std::vector<Worker*>& workers) {
    std::map<std::string_view, int> counts;
    for (const auto* w : workers) ++counts[state_name(w->state)];
    if (counts.empty()) return "no worker yet";
    std::string out;
    for (const auto& [name, n] : counts) out += (out.empty() ? "" : ", ") + std::to_string(n) + " " + std::string(name);
    return out;
}

}  // namespace

http1::Reply Api::route(const ApiRequest& r) {
    json::error_code ec;
    const auto doc = json::parse(r.body, ec);
    if (ec || !doc.is_object()) return http1::error_reply(400, "the body must be a JSON object");
    const auto& body = doc.get_object();
    auto read = read_route_call(body);
    if (auto* problems = std::get_if<json::object>(&read)) return json_answer(422, json::object{{"error", *problems}});
    const auto& call = std::get<RouteCall>(read);
    auto* entry = parts_.fleet.endpoint_named(call.endpoint);
    if (entry == nullptr) return http1::error_reply(404, "no endpoint named " + call.endpoint);
    if (!key_matches(key_of(r, &body), entry->endpoint.api_key)) {
        return http1::error_reply(401, "Authentication failed");
    }
    if (call.request_idx >= next_request_idx_) {
        return http1::error_reply(400, "request_idx " + std::to_string(call.request_idx) + " was never handed out");
    }

    const double now = parts_.now();
    entry->queue.expire(now);
    int64_t idx = call.request_idx;
    if (idx == 0) {
        idx = next_request_idx_++;
        entry->meter.arrived(call.cost_value, now);
    } else {
        // A request routed before comes back when its worker failed it: it is routed afresh.
        entry->assigned.erase(idx);
    }
    const auto workers = parts_.fleet.workers_of_endpoint(entry->endpoint.id);
    std::vector<Candidate> candidates;
    for (const auto* w : workers) {
        if (w->state != WorkerState::ready || !w->last) continue;
        candidates.push_back({w->id, w->last->cur_load + w->assigned_since_report, w->last->max_perf});
    }
    const auto picked = pick_worker(candidates, entry->queue.costs_ahead(idx), entry->endpoint.params.max_queue_time);
    const std::string request_id = auth::random_token();
    if (!picked) {
        entry->queue.wait(idx, call.cost_value, call.replay_timeout, now);
        ++entry->waited;
        return json_answer(200, json::object{{"endpoint", call.endpoint},
                                             {"status", worker_summary(workers)},
                                             {"request_idx", idx},
                                             {"__request_id", request_id}});
    }
    auto& w = *parts_.fleet.worker(*picked);
    w.assigned_since_report += call.cost_value;
    entry->queue.remove(idx);
    entry->assigned[idx] = w.id;
    ++entry->routed;
    spdlog::debug("route: request {} of {} to worker {}", idx, call.endpoint, w.id);
    json::object ready{{"endpoint", call.endpoint}, {"url", w.url},         {"cost", call.cost},
                       {"reqnum", w.next_reqnum++}, {"request_idx", idx},   {"signature", ""},
                       {"__request_id", request_id}};
    const auto message = parts_.config.signature_scheme == "fields" ? auth::all_fields_message(ready)
                                                                    : auth::url_message(w.url);
    ready["signature"] = parts_.key.sign(message);
    return json_answer(200, ready);
}

}  // namespace cppworker::engine
