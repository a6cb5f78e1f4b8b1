#include "model/endpoint.hpp"

#include <cmath>

namespace cppworker::engine {
namespace json = boost::json;

namespace {

std::optional<double> number(const json::value& v) {
    if (!v.is_number()) return std::nullopt;
    const double d = v.to_number<double>();
    if (!std::isfinite(d)) return std::nullopt;
    return d;
}

// Each field: its name, the check it must pass (as words for the error), and where it goes.
struct Field {
    const char* name;
    const char* must_be;
    bool (*valid)(double);
    void (*store)(ScalingParams&, double);
};

constexpr Field fields_of_params[] = {
    {"min_load", "a number >= 0", [](double v) { return v >= 0; }, [](ScalingParams& p, double v) { p.min_load = v; }},
    {"target_util", "a number in (0, 1]", [](double v) { return v > 0 && v <= 1; },
     [](ScalingParams& p, double v) { p.target_util = v; }},
    {"cold_mult", "a number >= 1", [](double v) { return v >= 1; }, [](ScalingParams& p, double v) { p.cold_mult = v; }},
    {"min_cold_load", "a number >= 0", [](double v) { return v >= 0; },
     [](ScalingParams& p, double v) { p.min_cold_load = v; }},
    {"cold_workers", "a whole number >= 0", [](double v) { return v >= 0 && std::trunc(v) == v && v < 1e6; },
     [](ScalingParams& p, double v) { p.cold_workers = static_cast<int>(v); }},
    {"max_workers", "a whole number >= 1", [](double v) { return v >= 1 && std::trunc(v) == v && v < 1e6; },
     [](ScalingParams& p, double v) { p.max_workers = static_cast<int>(v); }},
    {"inactivity_timeout", "a number", [](double) { return true; },
     [](ScalingParams& p, double v) { p.inactivity_timeout = v; }},
    {"max_queue_time", "a number > 0", [](double v) { return v > 0; },
     [](ScalingParams& p, double v) { p.max_queue_time = v; }},
    {"target_queue_time", "a number > 0", [](double v) { return v > 0; },
     [](ScalingParams& p, double v) { p.target_queue_time = v; }},
};

}  // namespace

std::optional<std::string> read_params(const json::object& fields, ScalingParams& params) {
    ScalingParams read = params;
    for (const auto& f : fields_of_params) {
        const auto* v = fields.if_contains(f.name);
        // Vast's clients send only what is set; a null is "not set" too.
        if (v == nullptr || v->is_null()) continue;
        const auto d = number(*v);
        if (!d || !f.valid(*d)) return std::string(f.name) + " must be " + f.must_be;
        f.store(read, *d);
    }
    if (read.cold_workers > read.max_workers) return std::string("cold_workers must not exceed max_workers");
    params = read;
    return std::nullopt;
}

json::object endpoint_json(const Endpoint& e) {
    const auto& p = e.params;
    json::object o{{"id", e.id},
                   {"endpoint_name", e.name},
                   {"api_key", e.api_key},
                   {"user_id", 1},
                   {"created_at", e.created_at},
                   {"cold_workers", p.cold_workers},
                   {"max_workers", p.max_workers},
                   {"min_load", p.min_load},
                   {"min_cold_load", p.min_cold_load},
                   {"target_util", p.target_util},
                   {"cold_mult", p.cold_mult},
                   {"max_queue_time", p.max_queue_time},
                   {"target_queue_time", p.target_queue_time},
                   {"endpoint_state", "active"},
                   {"auto_delete_in_seconds", nullptr},
                   {"auto_delete_due_24h", false}};
    o["inactivity_timeout"] = p.inactivity_timeout ? json::value(*p.inactivity_timeout) : json::value(nullptr);
    return o;
}

ScalingParams group_params(const Endpoint& e, const Workergroup& g) {
    ScalingParams p = e.params;
    // Checked when the group was made, so they read here without an error.
    read_params(g.overrides, p);
    return p;
}

}  // namespace cppworker::engine
