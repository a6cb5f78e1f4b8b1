#include "history/sampling.hpp"

namespace cppworker::engine {

WorkerCounts count_workers(const std::vector<WorkerSample>& workers) {
    WorkerCounts c;
    for (const auto& w : workers) {
        switch (w.state) {
        case WorkerState::ready: ++c.ready; break;
        case WorkerState::loading:
        case WorkerState::model_loading: ++c.starting; break;
        case WorkerState::stopped: ++(w.has_model ? c.cold : c.other); break;
        case WorkerState::stopping:
        case WorkerState::errored:
        case WorkerState::lost: ++c.other; break;
        }
    }
    return c;
}

std::optional<double> estimated_queue_time(const std::vector<const Worker*>& workers, double waiting_load) {
    double in_flight = 0, perf = 0;
    for (const auto* w : workers) {
        if (w->state != WorkerState::ready || !w->last || w->last->max_perf <= 0) continue;
        in_flight += w->last->cur_load + w->assigned_since_report;
        perf += w->last->max_perf;
    }
    if (perf <= 0) return std::nullopt;
    return (in_flight + waiting_load) / perf;
}

Sample sample_endpoint(const EndpointEntry& entry, const std::vector<const Worker*>& workers,
                       std::vector<GroupSample> groups, double window, double now) {
    Sample s;
    s.time = now;
    s.endpoint_id = entry.endpoint.id;
    s.offered = entry.meter.rate(window, now);
    s.served = entry.served_meter.rate(window, now);
    s.waiting = entry.queue.size();
    s.waiting_load = entry.queue.total_cost();
    s.requests = {entry.routed, entry.waited, entry.served, entry.failed};
    s.queue_time = estimated_queue_time(workers, s.waiting_load);
    s.groups = std::move(groups);
    for (const auto* w : workers) {
        WorkerSample ws;
        ws.id = w->id;
        ws.workergroup_id = w->workergroup_id;
        ws.state = w->state;
        ws.has_model = w->has_model;
        ws.cur_load = w->last ? w->last->cur_load : 0;
        ws.throughput = w->served_rate;
        ws.max_perf = w->last ? w->last->max_perf : 0;
        ws.requests_working = w->last ? w->last->num_requests_working : 0;
        ws.error = w->error;
        s.workers.push_back(std::move(ws));
    }
    return s;
}

}  // namespace cppworker::engine
