// What workers post (../shared/protocol.md §2): their status, and the requests they finished.
#include "api/api.hpp"

#include <boost/json.hpp>

#include <spdlog/spdlog.h>

namespace cppworker::engine {
namespace json = boost::json;

namespace {

// The worker a body names with its id (CONTAINER_ID) and mtoken (MASTER_TOKEN), or the answer
// when it names none: the engine knows the workers it started, and their tokens.
std::variant<Worker*, http1::Reply> worker_of(Fleet& fleet, const json::object& body, const char* id_field) {
    const auto* id = body.if_contains(id_field);
    if (id == nullptr || (!id->is_int64() && !id->is_uint64())) {
        return http1::error_reply(422, std::string(id_field) + " must be an integer");
    }
    auto* w = fleet.worker(id->to_number<int64_t>());
    if (w == nullptr) return http1::error_reply(404, "no worker " + std::to_string(id->to_number<int64_t>()));
    const auto* token = body.if_contains("mtoken");
    if (token == nullptr || !token->is_string() || !key_matches(token->get_string(), w->mtoken)) {
        return http1::error_reply(401, "mtoken does not match worker " + std::to_string(w->id));
    }
    return w;
}

}  // namespace

http1::Reply Api::worker_status(const ApiRequest& r) {
    json::error_code ec;
    const auto doc = json::parse(r.body, ec);
    if (ec || !doc.is_object()) return http1::error_reply(400, "the body must be a JSON object");
    auto found = worker_of(parts_.fleet, doc.get_object(), "id");
    if (auto* reply = std::get_if<http1::Reply>(&found)) return std::move(*reply);
    auto& w = *std::get<Worker*>(found);
    StatusReport report;
    if (auto error = read_report(doc.get_object(), report)) return http1::error_reply(422, *error);
    const auto before = w.state;
    const double now = parts_.now();
    if (auto* entry = parts_.fleet.endpoint(w.endpoint_id)) entry->served_meter.arrived(report.cur_perf, now);
    apply_report(w, std::move(report), now);
    if (w.state != before) {
        spdlog::info("worker {}: {} -> {}{}", w.id, state_name(before), state_name(w.state),
                     w.error.empty() ? "" : " (" + w.error + ")");
    }
    return json_answer(200, json::object{{"success", true}});
}

http1::Reply Api::delete_requests(const ApiRequest& r) {
    json::error_code ec;
    const auto doc = json::parse(r.body, ec);
    if (ec || !doc.is_object()) return http1::error_reply(400, "the body must be a JSON object");
    const auto& body = doc.get_object();
    auto found = worker_of(parts_.fleet, body, "worker_id");
    if (auto* reply = std::get_if<http1::Reply>(&found)) return std::move(*reply);
    const auto* idxs = body.if_contains("request_idxs");
    const auto* success = body.if_contains("success");
    if (idxs == nullptr || !idxs->is_array()) return http1::error_reply(422, "request_idxs must be a list");
    if (success == nullptr || !success->is_bool()) return http1::error_reply(422, "success must be true or false");
    auto* entry = parts_.fleet.endpoint(std::get<Worker*>(found)->endpoint_id);
    for (const auto& idx : idxs->get_array()) {
        if (!idx.is_int64() && !idx.is_uint64()) return http1::error_reply(422, "request_idxs must hold integers");
        if (entry == nullptr) continue;
        entry->assigned.erase(idx.to_number<int64_t>());
        ++(success->get_bool() ? entry->served : entry->failed);
    }
    return json_answer(200, json::object{{"success", true}});
}

}  // namespace cppworker::engine
