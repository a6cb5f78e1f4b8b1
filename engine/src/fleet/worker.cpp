#include "fleet/worker.hpp"

#include <algorithm>
#include <cmath>

namespace cppworker::engine {
namespace json = boost::json;

std::string_view state_name(WorkerState s) {
    switch (s) {
    case WorkerState::loading: return "LOADING";
    case WorkerState::model_loading: return "MODEL_LOADING";
    case WorkerState::ready: return "READY";
    case WorkerState::errored: return "ERROR";
    case WorkerState::lost: return "LOST";
    case WorkerState::stopping: return "STOPPING";
    case WorkerState::stopped: return "STOPPED";
    }
    return "UNKNOWN";
}

namespace {

bool read_number(const json::object& body, const char* name, double& out, std::string& error) {
    const auto* v = body.if_contains(name);
    if (v == nullptr || !v->is_number() || !std::isfinite(v->to_number<double>())) {
        error = std::string(name) + " must be a number";
        return false;
    }
    out = v->to_number<double>();
    return true;
}

}  // namespace

std::optional<std::string> read_report(const json::object& body, StatusReport& report) {
    std::string error;
    StatusReport r;
    double working = 0;
    if (!read_number(body, "loadtime", r.loadtime, error) || !read_number(body, "cur_load", r.cur_load, error) ||
        !read_number(body, "new_load", r.new_load, error) || !read_number(body, "rej_load", r.rej_load, error) ||
        !read_number(body, "cur_perf", r.cur_perf, error) || !read_number(body, "max_perf", r.max_perf, error) ||
        !read_number(body, "num_requests_working", working, error)) {
        return error;
    }
    r.num_requests_working = static_cast<int64_t>(working);
    const auto* msg = body.if_contains("error_msg");
    if (msg == nullptr || !msg->is_string()) return std::string("error_msg must be a string");
    r.error_msg = std::string(msg->get_string());
    const auto* url = body.if_contains("url");
    if (url == nullptr || !url->is_string()) return std::string("url must be a string");
    r.url = std::string(url->get_string());
    const auto* idxs = body.if_contains("working_request_idxs");
    if (idxs == nullptr || !idxs->is_array()) return std::string("working_request_idxs must be a list");
    for (const auto& v : idxs->get_array()) {
        if (!v.is_int64() && !v.is_uint64()) return std::string("working_request_idxs must hold integers");
        r.working_request_idxs.push_back(v.to_number<int64_t>());
    }
    report = std::move(r);
    return std::nullopt;
}

namespace {

void enter(Worker& w, WorkerState state, double now) {
    if (w.state == state) return;
    w.state = state;
    w.state_since = now;
}

}  // namespace

void apply_report(Worker& w, StatusReport report, double now) {
    const double interval = now - std::max(w.last_report_at, w.started_at);
    w.served_rate = interval > 0 ? report.cur_perf / interval : 0;
    w.last_report_at = now;
    w.assigned_since_report = 0;
    if (!report.url.empty()) w.url = report.url;
    const bool loaded = report.loadtime > 0 && report.max_perf > 0;
    const bool stays = w.state == WorkerState::stopping || w.state == WorkerState::stopped;
    if (!stays) {
        if (!report.error_msg.empty()) {
            w.error = report.error_msg;
            enter(w, WorkerState::errored, now);
        } else if (loaded) {
            if (w.loaded_at == 0) w.loaded_at = now;
            w.has_model = true;
            w.error.clear();
            enter(w, WorkerState::ready, now);
        } else {
            enter(w, WorkerState::model_loading, now);
        }
    }
    w.last = std::move(report);
}

bool check_time(Worker& w, const Lifetimes& limits, double now) {
    const bool watched = w.state == WorkerState::loading || w.state == WorkerState::model_loading ||
                         w.state == WorkerState::ready;
    if (!watched) return false;
    const double heard = std::max(w.last_report_at, w.started_at);
    if (now - heard > limits.lost_after) {
        w.error = "lost: no report for " + std::to_string(static_cast<int>(now - heard)) + " s";
        enter(w, WorkerState::lost, now);
        return true;
    }
    if (w.state != WorkerState::ready && now - w.started_at > limits.ready_within) {
        w.error = "not ready within " + std::to_string(static_cast<int>(limits.ready_within)) + " s of its start";
        enter(w, WorkerState::errored, now);
        return true;
    }
    return false;
}

json::object worker_json(const Worker& w) {
    const auto& r = w.last ? *w.last : StatusReport{};
    json::object o{{"id", w.id},
                   {"status", state_name(w.state)},
                   {"cur_load", r.cur_load},
                   {"new_load", r.new_load},
                   {"cur_load_rolling_avg", r.cur_load},
                   {"cur_perf", r.cur_perf},
                   {"perf", r.max_perf},
                   {"measured_perf", r.max_perf},
                   {"dlperf", r.max_perf},
                   {"reliability", 1.0},
                   {"reqs_working", r.num_requests_working},
                   {"disk_usage", 0.0},
                   {"loaded_at", w.loaded_at},
                   {"started_at", w.started_at},
                   {"url", w.url},
                   {"workergroup_id", w.workergroup_id}};
    if (!w.error.empty()) o["error_msg"] = w.error;
    return o;
}

}  // namespace cppworker::engine
