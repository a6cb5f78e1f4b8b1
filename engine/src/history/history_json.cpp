#include "history/history_json.hpp"

#include "history/sampling.hpp"

#include <boost/json.hpp>

namespace cppworker::engine {
namespace json = boost::json;

namespace {

json::object worker_sample_json(const WorkerSample& w) {
    return {{"id", w.id},
            {"workergroup_id", w.workergroup_id},
            {"state", state_name(w.state)},
            {"has_model", w.has_model},
            {"cur_load", w.cur_load},
            {"throughput", w.throughput},
            {"max_perf", w.max_perf},
            {"requests_working", w.requests_working},
            {"error", w.error}};
}

json::object sample_json(const Sample& s, bool with_workers) {
    json::array groups, workers;
    double anticipated = 0;
    int active = 0, total = 0;
    for (const auto& g : s.groups) {
        anticipated += g.anticipated_load;
        active += g.active_wanted;
        total += g.total_wanted;
        groups.push_back(json::object{{"workergroup_id", g.workergroup_id},
                                      {"anticipated_load", g.anticipated_load},
                                      {"active_wanted", g.active_wanted},
                                      {"total_wanted", g.total_wanted},
                                      {"why", g.why}});
    }
    if (with_workers) {
        for (const auto& w : s.workers) workers.push_back(worker_sample_json(w));
    }
    const auto counts = count_workers(s.workers);
    json::object out{{"seq", s.seq},
            {"time", s.time},
            {"offered", s.offered},
            {"served", s.served},
            {"queue_time", s.queue_time ? json::value(*s.queue_time) : json::value(nullptr)},
            {"waiting", s.waiting},
            {"waiting_load", s.waiting_load},
            {"requests", json::object{{"routed", s.requests.routed},
                                      {"waited", s.requests.waited},
                                      {"succeeded", s.requests.succeeded},
                                      {"failed", s.requests.failed}}},
            {"anticipated_load", anticipated},
            {"active_wanted", active},
            {"total_wanted", total},
            {"ready", counts.ready},
            {"cold", counts.cold},
            {"starting", counts.starting},
            {"other", counts.other},
            {"groups", std::move(groups)}};
    if (with_workers) out["workers"] = std::move(workers);
    return out;
}

json::object action_json(const ActionRecord& a) {
    return {{"seq", a.seq},         {"time", a.time},     {"workergroup_id", a.workergroup_id},
            {"action", action_name(a.kind)}, {"worker", a.worker}, {"reason", a.reason}, {"error", a.error}};
}

}  // namespace

json::object history_json(const History::Since& since, const std::map<int64_t, std::string>& names,
                          const HistoryLimits& limits, double tick, bool all_workers) {
    json::array endpoints;
    for (const auto& [id, name] : names) {
        json::array samples, actions;
        if (const auto it = since.samples.find(id); it != since.samples.end()) {
            for (const auto* s : it->second) samples.push_back(sample_json(*s, all_workers || s == it->second.back()));
        }
        if (const auto it = since.actions.find(id); it != since.actions.end()) {
            for (const auto* a : it->second) actions.push_back(action_json(*a));
        }
        endpoints.push_back(
            json::object{{"id", id}, {"name", name}, {"samples", std::move(samples)}, {"actions", std::move(actions)}});
    }
    return {{"last", since.last},
            {"tick", tick},
            {"limits", json::object{{"samples", limits.samples}, {"actions", limits.actions}}},
            {"endpoints", std::move(endpoints)}};
}

}  // namespace cppworker::engine
