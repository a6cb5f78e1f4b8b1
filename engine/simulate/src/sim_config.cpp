#include "sim_config.hpp"

#include "config/engine_config.hpp"

#include <boost/json.hpp>

#include <cmath>
#include <initializer_list>

namespace cppworker::simulate {
namespace json = boost::json;

namespace {

std::optional<std::string> unknown_field(const json::object& o, std::initializer_list<const char*> known) {
    for (const auto& [key, value] : o) {
        bool found = false;
        for (const char* k : known) found = found || key == k;
        if (!found) return "unknown field \"" + std::string(key) + "\"";
    }
    return std::nullopt;
}

std::optional<std::string> read_workers(const json::object& o, WorkerModel& w) {
    for (auto [name, out] : {std::pair{"start_s", &w.start_s}, {"load_s", &w.load_s}, {"perf", &w.perf},
                             {"cost_per_hour", &w.cost_per_hour}, {"stopped_cost_per_hour", &w.stopped_cost_per_hour}}) {
        const auto* v = o.if_contains(name);
        if (v == nullptr) continue;
        auto d = read_distribution(*v);
        if (auto* e = std::get_if<std::string>(&d)) return std::string(name) + ": " + *e;
        *out = std::get<Distribution>(d);
    }
    for (auto [name, out] : {std::pair{"restart_s", &w.restart_s}, {"mttf_s", &w.mttf_s}}) {
        const auto* v = o.if_contains(name);
        if (v == nullptr || v->is_null()) continue;
        auto d = read_distribution(*v);
        if (auto* e = std::get_if<std::string>(&d)) return std::string(name) + ": " + *e;
        *out = std::get<Distribution>(d);
    }
    if (w.perf.kind == Distribution::Kind::constant && w.perf.a <= 0) return std::string("perf: must be > 0");
    if (w.mttf_s && w.mttf_s->mean() <= 0) return std::string("mttf_s: must have a mean > 0");
    if (const auto* v = o.if_contains("expected_perf")) {
        if (!v->is_number() || !(v->to_number<double>() >= 0)) return std::string("expected_perf: must be a number >= 0");
        w.expected_perf = v->to_number<double>();
    }
    return std::nullopt;
}

std::optional<std::string> read_positive(const json::object& o, const char* name, double& out) {
    const auto* v = o.if_contains(name);
    if (v == nullptr) return std::nullopt;
    if (!v->is_number() || !std::isfinite(v->to_number<double>()) || v->to_number<double>() <= 0) {
        return std::string(name) + ": must be a number > 0";
    }
    out = v->to_number<double>();
    return std::nullopt;
}

std::optional<std::string> read_settings(const json::object& o, SimConfig& c) {
    for (auto [name, out] : {std::pair{"step", &c.step}, {"tick", &c.tick}, {"request_cost", &c.request_cost},
                             {"client_timeout", &c.client_timeout}}) {
        if (auto e = read_positive(o, name, *out)) return e;
    }
    if (std::abs(c.tick / c.step - std::round(c.tick / c.step)) > 1e-9) {
        return std::string("tick: must be a whole number of steps");
    }
    if (const auto* v = o.if_contains("seed")) {
        if (!v->is_number() || v->to_number<double>() < 0) return std::string("seed: must be a whole number >= 0");
        c.seed = v->is_uint64() ? v->get_uint64() : static_cast<uint64_t>(v->to_number<double>());
    }
    if (const auto* v = o.if_contains("arrivals")) {
        if (!v->is_string() || (v->get_string() != "poisson" && v->get_string() != "fluid")) {
            return std::string("arrivals: must be \"poisson\" or \"fluid\"");
        }
        c.poisson = v->get_string() == "poisson";
    }
    return std::nullopt;
}

// The field as an object: null when absent; an error when it is something else.
std::variant<const json::object*, std::string> object_field(const json::object& file, const char* name) {
    const auto* v = file.if_contains(name);
    if (v == nullptr) return static_cast<const json::object*>(nullptr);
    if (!v->is_object()) return std::string(name) + ": must be an object";
    return &v->get_object();
}

}  // namespace

std::variant<SimConfig, std::string> read_sim_config(const json::object& file) {
    SimConfig c;
    if (auto e = unknown_field(file, {"workers", "params", "tuning", "lifetimes", "seed", "step", "tick",
                                      "request_cost", "arrivals", "client_timeout"})) {
        return *e;
    }
    const char* sections[] = {"workers", "params", "tuning", "lifetimes"};
    const json::object* objects[4] = {};
    for (int i = 0; i < 4; ++i) {
        auto read = object_field(file, sections[i]);
        if (auto* e = std::get_if<std::string>(&read)) return *e;
        objects[i] = std::get<const json::object*>(read);
    }
    if (const auto* o = objects[0]) {
        if (auto e = unknown_field(*o, {"start_s", "load_s", "restart_s", "perf", "cost_per_hour",
                                        "stopped_cost_per_hour", "mttf_s", "expected_perf"})) {
            return "workers: " + *e;
        }
        if (auto e = read_workers(*o, c.workers)) return "workers." + *e;
    }
    if (const auto* o = objects[1]) {
        if (auto e = unknown_field(*o, {"min_load", "target_util", "cold_mult", "min_cold_load", "cold_workers",
                                        "max_workers", "inactivity_timeout", "max_queue_time", "target_queue_time"})) {
            return "params: " + *e;
        }
        if (auto e = engine::read_params(*o, c.params)) return "params." + *e;
    }
    if (const auto* o = objects[2]) {
        if (auto e = unknown_field(*o, {"stable_window", "panic_window", "tolerance", "scale_down_delay",
                                        "error_backoff_max"})) {
            return "tuning: " + *e;
        }
        if (auto e = engine::read_tuning(*o, c.tuning)) return "tuning." + *e;
    }
    if (const auto* o = objects[3]) {
        if (auto e = unknown_field(*o, {"ready_within", "lost_after"})) return "lifetimes: " + *e;
        if (auto e = engine::read_lifetimes(*o, c.lifetimes)) return "lifetimes." + *e;
    }
    if (auto e = read_settings(file, c)) return *e;
    return c;
}

}  // namespace cppworker::simulate
