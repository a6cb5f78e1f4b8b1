#include "results.hpp"

#include <boost/json.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace cppworker::load {
namespace json = boost::json;

namespace {

constexpr double no_data = std::numeric_limits<double>::quiet_NaN();

json::value ms_or_null(double seconds) {
    if (!std::isfinite(seconds)) return nullptr;
    return std::round(seconds * 1e6) / 1e3;  // milliseconds, to the microsecond
}

json::object distribution_json(const Distribution& d) {
    return {{"count", d.count},           {"mean_ms", ms_or_null(d.mean)}, {"p50_ms", ms_or_null(d.p50)},
            {"p90_ms", ms_or_null(d.p90)}, {"p99_ms", ms_or_null(d.p99)},   {"p99_9_ms", ms_or_null(d.p999)},
            {"max_ms", ms_or_null(d.max)}};
}

json::object by_status(const std::map<int, std::size_t>& counts) {
    json::object o;
    for (const auto& [status, n] : counts) o[std::to_string(status)] = n;
    return o;
}

std::size_t total(const std::map<int, std::size_t>& counts) {
    std::size_t n = 0;
    for (const auto& [status, c] : counts) n += c;
    return n;
}

json::object errors_json(const std::map<std::string, std::size_t>& errors) {
    json::object o;
    for (const auto& [text, n] : errors) o[text] = n;
    return o;
}

std::string ms(double seconds) { return std::isfinite(seconds) ? fmt::format("{:.1f} ms", seconds * 1e3) : "-"; }

std::string dist_line(const Distribution& d) {
    return fmt::format("p50 {}  p90 {}  p99 {}  p99.9 {}  max {}", ms(d.p50), ms(d.p90), ms(d.p99), ms(d.p999),
                       ms(d.max));
}

}  // namespace

std::vector<std::string> missed(const Summary& s, const Gates& g) {
    std::vector<std::string> out;
    if (g.slo.any() && s.slo_attainment < g.slo_attainment) {
        out.push_back(fmt::format("SLO met by {:.2f} % of requests, below the {:.2f} % asked (--slo-attainment)",
                                  s.slo_attainment * 100, g.slo_attainment * 100));
    }
    if (g.max_error_rate && s.error_rate > *g.max_error_rate) {
        out.push_back(fmt::format("error rate {:.3f} % above the budget of {:.3f} % (--max-error-rate)",
                                  s.error_rate * 100, *g.max_error_rate * 100));
    }
    return out;
}

json::object results_json(const Summary& s, const RunResult& run, const Settings& settings,
                          const std::vector<std::string>& missed_gates) {
    json::object settings_json;
    for (const auto& [name, value] : settings) settings_json[name] = value;
    json::array seconds;
    for (const auto& sec : per_second(run.records, run.seconds)) {
        seconds.push_back({{"offered", sec.offered}, {"sent", sec.sent}, {"served", sec.served},
                           {"p99_ms", ms_or_null(sec.p99)}, {"errors", sec.errors}});
    }
    json::array workers;
    for (const auto& w : run.workers) {
        json::object states;
        for (const auto& [name, n] : w.states) states[name] = n;
        workers.push_back({{"t", w.t}, {"states", std::move(states)}});
    }
    json::array gates;
    for (const auto& m : missed_gates) gates.push_back(json::string(m));
    return {{"settings", std::move(settings_json)},
            {"seconds", s.seconds},
            {"requests", s.requests},
            {"outcomes", {{"ok_2xx", s.ok}, {"client_errors_4xx", by_status(s.client_errors)},
                          {"server_errors_5xx", s.server_errors}, {"transport_errors", s.transport},
                          {"unrouted", s.unrouted}, {"route_errors", by_status(s.route_errors)}}},
            {"retries", s.retries},
            {"errors", errors_json(s.errors)},
            {"served_per_second", s.served_per_second},
            {"error_rate", s.error_rate},
            {"latency", distribution_json(s.latency)},
            {"streams", {{"count", s.streams}, {"ttft", distribution_json(s.ttft)},
                         {"itl", distribution_json(s.itl)}, {"tokens", s.tokens},
                         {"tokens_per_second", s.tokens_per_second}}},
            {"slo", {{"good", s.good}, {"goodput_per_second", s.goodput}, {"attainment", s.slo_attainment}}},
            {"passed", missed_gates.empty()},
            {"missed", std::move(gates)},
            {"per_second", std::move(seconds)},
            {"workers", std::move(workers)}};
}

std::string text_report(const Summary& s, const std::vector<std::string>& missed_gates) {
    std::string out = fmt::format(
        "requests   {} in {:.1f} s: {} ok (2xx), {} 4xx, {} 5xx, {} transport errors, {} unrouted, {} route errors; "
        "{} retries\n",
        s.requests, s.seconds, s.ok, total(s.client_errors), s.server_errors, s.transport, s.unrouted,
        total(s.route_errors), s.retries);
    for (const auto& [status, n] : s.client_errors) out += fmt::format("           {} answered {}\n", n, status);
    for (const auto& [status, n] : s.route_errors) out += fmt::format("           {} routes answered {}\n", n, status);
    // The kinds of failure, the most frequent first; a run against a dead server has one.
    std::vector<std::pair<std::size_t, std::string>> kinds;
    for (const auto& [text, n] : s.errors) kinds.emplace_back(n, text);
    std::sort(kinds.rbegin(), kinds.rend());
    for (std::size_t i = 0; i < kinds.size() && i < 5; ++i) {
        out += fmt::format("           {} x {}\n", kinds[i].first, kinds[i].second);
    }
    if (kinds.size() > 5) out += fmt::format("           ... and {} other kinds of error (see --json)\n", kinds.size() - 5);
    out += fmt::format("served     {:.2f} req/s, error rate {:.3f} %\n", s.served_per_second, s.error_rate * 100);
    out += fmt::format("latency    {}\n", dist_line(s.latency));
    if (s.streams > 0) {
        out += fmt::format("ttft       {}\n", dist_line(s.ttft));
        out += fmt::format("itl        {}\n", dist_line(s.itl));
        out += fmt::format("tokens     {} ({:.1f} tokens/s)\n", s.tokens, s.tokens_per_second);
    }
    out += fmt::format("goodput    {:.2f} req/s ({} requests met the SLO, {:.2f} %)\n", s.goodput, s.good,
                       s.slo_attainment * 100);
    for (const auto& m : missed_gates) out += "MISSED     " + m + "\n";
    return out;
}

report::Run report_of(const Summary& s, const RunResult& run, const Settings& settings, std::string title) {
    report::Run r;
    r.title = std::move(title);
    const auto seconds = per_second(run.records, run.seconds);
    report::Series offered{"offered", {}}, sent{"sent", {}}, served{"served (2xx)", {}}, errors{"errors", {}},
        p99{"p99 latency", {}};
    for (std::size_t i = 0; i < seconds.size(); ++i) {
        r.t.push_back(static_cast<double>(i) + 0.5);
        offered.values.push_back(seconds[i].offered);
        sent.values.push_back(seconds[i].sent);
        served.values.push_back(seconds[i].served);
        errors.values.push_back(seconds[i].errors);
        p99.values.push_back(std::isfinite(seconds[i].p99) ? seconds[i].p99 * 1e3 : no_data);
    }
    r.panels.push_back({"load", "req/s", {offered, sent, served, errors}});
    r.panels.push_back({"latency", "ms", {p99}});
    if (!run.workers.empty()) {
        // Sampled every second or so: each second shows its last sample, NaN where none fell.
        report::Series ready{"ready", std::vector<double>(r.t.size(), no_data)};
        report::Series cold{"cold (stopped)", std::vector<double>(r.t.size(), no_data)};
        report::Series loading{"loading", std::vector<double>(r.t.size(), no_data)};
        for (const auto& w : run.workers) {
            const auto i = std::min(r.t.size() - 1, static_cast<std::size_t>(std::max(0.0, w.t)));
            auto count = [&](const char* state) {
                const auto it = w.states.find(state);
                return it == w.states.end() ? 0.0 : static_cast<double>(it->second);
            };
            ready.values[i] = count("READY");
            cold.values[i] = count("STOPPED");
            loading.values[i] = count("LOADING") + count("MODEL_LOADING");
        }
        r.panels.push_back({"workers", "count", {ready, cold, loading}});
    }
    r.figures = {{"requests", std::to_string(s.requests)},
                 {"ok (2xx)", std::to_string(s.ok)},
                 {"4xx", std::to_string(total(s.client_errors))},
                 {"5xx", std::to_string(s.server_errors)},
                 {"transport errors", std::to_string(s.transport)},
                 {"unrouted", std::to_string(s.unrouted)},
                 {"route errors", std::to_string(total(s.route_errors))},
                 {"retries", std::to_string(s.retries)},
                 {"served", fmt::format("{:.2f} req/s", s.served_per_second)},
                 {"latency", dist_line(s.latency)},
                 {"goodput", fmt::format("{:.2f} req/s ({:.2f} % met the SLO)", s.goodput, s.slo_attainment * 100)}};
    if (s.streams > 0) {
        r.figures.push_back({"time to first token", dist_line(s.ttft)});
        r.figures.push_back({"inter-token latency", dist_line(s.itl)});
        r.figures.push_back({"tokens", fmt::format("{} ({:.1f} tokens/s)", s.tokens, s.tokens_per_second)});
    }
    r.settings = settings;
    return r;
}

}  // namespace cppworker::load
