#include "output.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <cmath>

namespace cppworker::simulate {
namespace json = boost::json;

namespace {

// Counts of requests are fluid in the model; people read them whole.
long long whole(double n) { return std::llround(n); }

json::value number_or_null(double v) { return std::isfinite(v) ? json::value(v) : json::value(nullptr); }

}  // namespace

std::string text_report(const SimResult& r, const Timing& timing) {
    const auto& f = r.figures;
    std::string out;
    out += fmt::format("requests    {} offered ({:.6g} load units): {} completed, {} refused, {} failed, "
                       "{} waiting and {} in flight at the end\n",
                       whole(f.offered), f.offered_load, whole(f.completed), whole(f.refused), whole(f.failed),
                       whole(f.waiting_at_end), whole(f.in_flight_at_end));
    out += fmt::format("queue time  p50 {:.3f} s, p90 {:.3f} s, p99 {:.3f} s, mean {:.3f} s\n", f.queue_p50,
                       f.queue_p90, f.queue_p99, f.queue_mean);
    out += fmt::format("cost        ${:.2f}: ${:.2f} running, ${:.2f} stopped\n", f.gpu_cost + f.stopped_cost,
                       f.gpu_cost, f.stopped_cost);
    out += fmt::format("worker-h    {:.1f} serving, {:.1f} starting, {:.1f} draining, {:.1f} stopped (cold)\n",
                       f.serving_h, f.starting_h, f.draining_h, f.cold_h);
    out += fmt::format("workers     {} created, {} failed, {} not ready within ready_within, {} ready at most\n",
                       f.created, f.failures, f.not_ready, f.peak_ready);
    out += fmt::format("simulator   {} steps, {} policy runs ({:.3f} s CPU in the policy); {:.3f} s wall, "
                       "{:.3f} s CPU\n",
                       f.steps, f.policy_runs, f.policy_cpu_s, timing.wall_s, timing.cpu_s);
    return out;
}

json::object json_report(const SimResult& r, const Timing& timing, const Settings& settings) {
    const auto& f = r.figures;
    json::object s;
    for (const auto& [k, v] : settings) s[k] = v;
    return {
        {"settings", std::move(s)},
        {"requests", {{"offered", f.offered}, {"offered_load", f.offered_load}, {"completed", f.completed},
                      {"refused", f.refused}, {"failed", f.failed}, {"waiting_at_end", f.waiting_at_end},
                      {"in_flight_at_end", f.in_flight_at_end}}},
        {"queue_time_s", {{"p50", number_or_null(f.queue_p50)}, {"p90", number_or_null(f.queue_p90)},
                          {"p99", number_or_null(f.queue_p99)}, {"mean", number_or_null(f.queue_mean)}}},
        {"cost", {{"total", f.gpu_cost + f.stopped_cost}, {"running", f.gpu_cost}, {"stopped", f.stopped_cost}}},
        {"worker_hours", {{"serving", f.serving_h}, {"starting", f.starting_h}, {"draining", f.draining_h},
                          {"stopped", f.cold_h}}},
        {"workers", {{"created", f.created}, {"failed", f.failures}, {"not_ready", f.not_ready},
                     {"peak_ready", f.peak_ready}}},
        {"simulator", {{"steps", f.steps}, {"policy_runs", f.policy_runs}, {"policy_cpu_s", f.policy_cpu_s},
                       {"wall_s", timing.wall_s}, {"cpu_s", timing.cpu_s}}},
    };
}

report::Run plot_run(const SimResult& r, const Settings& settings, std::string title) {
    report::Run run;
    run.title = std::move(title);
    const auto series = [&](const char* name, double Sample::*field) {
        report::Series s{name, {}};
        for (const auto& x : r.samples) s.values.push_back(x.*field);
        return s;
    };
    for (const auto& x : r.samples) run.t.push_back(x.t);
    run.panels.push_back({"Load", "units/s", {series("offered", &Sample::offered), series("served", &Sample::served)}});
    run.panels.push_back({"Queue time", "s", {series("p99", &Sample::queue_p99), series("p50", &Sample::queue_p50)}});
    run.panels.push_back({"Waiting for a route", "units", {series("waiting", &Sample::waiting_load)}});
    run.panels.push_back({"Workers", "workers",
                          {series("ready", &Sample::ready), series("starting", &Sample::starting),
                           series("stopping", &Sample::stopping), series("stopped (cold)", &Sample::stopped),
                           series("serving wanted", &Sample::active_wanted),
                           series("loaded wanted", &Sample::total_wanted)}});
    run.panels.push_back({"Cost", "$/h", {series("workers", &Sample::cost_per_hour)}});
    const auto& f = r.figures;
    run.figures = {{"requests offered", fmt::format("{}", whole(f.offered))},
                   {"completed", fmt::format("{}", whole(f.completed))},
                   {"refused", fmt::format("{}", whole(f.refused))},
                   {"failed", fmt::format("{}", whole(f.failed))},
                   {"queue time p50 / p90 / p99", fmt::format("{:.3f} / {:.3f} / {:.3f} s", f.queue_p50, f.queue_p90, f.queue_p99)},
                   {"cost", fmt::format("${:.2f} (${:.2f} stopped)", f.gpu_cost + f.stopped_cost, f.stopped_cost)},
                   {"worker-hours serving / starting / draining / stopped",
                    fmt::format("{:.1f} / {:.1f} / {:.1f} / {:.1f}", f.serving_h, f.starting_h, f.draining_h, f.cold_h)},
                   {"workers created / failed / not ready in time / ready at most",
                    fmt::format("{} / {} / {} / {}", f.created, f.failures, f.not_ready, f.peak_ready)}};
    run.settings = settings;
    return run;
}

}  // namespace cppworker::simulate
