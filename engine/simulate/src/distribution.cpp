#include "distribution.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <cmath>
#include <initializer_list>

namespace cppworker::simulate {
namespace json = boost::json;

double Distribution::draw(std::mt19937_64& rng) const {
    switch (kind) {
    case Kind::constant: return a;
    case Kind::uniform: return std::uniform_real_distribution<double>(a, b)(rng);
    case Kind::normal: return std::max(std::normal_distribution<double>(a, b)(rng), 0.0);
    case Kind::lognormal: return std::lognormal_distribution<double>(std::log(a), b)(rng);
    case Kind::exponential: return std::exponential_distribution<double>(1 / a)(rng);
    }
    return a;
}

double Distribution::mean() const {
    switch (kind) {
    case Kind::uniform: return (a + b) / 2;
    case Kind::lognormal: return a * std::exp(b * b / 2);
    default: return a;  // the normal's cut at 0 is ignored here
    }
}

namespace {

struct KindFields {
    const char* name;
    Distribution::Kind kind;
    const char* first;
    const char* second;  // nullptr: one field
};

constexpr KindFields kinds[] = {
    {"constant", Distribution::Kind::constant, "value", nullptr},
    {"uniform", Distribution::Kind::uniform, "min", "max"},
    {"normal", Distribution::Kind::normal, "mean", "sd"},
    {"lognormal", Distribution::Kind::lognormal, "median", "sigma"},
    {"exponential", Distribution::Kind::exponential, "mean", nullptr},
};

std::variant<double, std::string> field(const json::object& o, const char* name, const char* dist) {
    const auto* v = o.if_contains(name);
    if (v == nullptr) return std::string(dist) + " needs \"" + name + "\"";
    if (!v->is_number() || !std::isfinite(v->to_number<double>()) || v->to_number<double>() < 0) {
        return std::string(name) + " must be a number >= 0";
    }
    return v->to_number<double>();
}

std::optional<std::string> check(const Distribution& d) {
    using K = Distribution::Kind;
    if (d.kind == K::uniform && d.b < d.a) return "max must not be below min";
    if (d.kind == K::lognormal && d.a <= 0) return "median must be > 0";
    if (d.kind == K::exponential && d.a <= 0) return "mean must be > 0";
    return std::nullopt;
}

}  // namespace

std::variant<Distribution, std::string> read_distribution(const json::value& v) {
    if (v.is_number()) {
        const double x = v.to_number<double>();
        if (!std::isfinite(x) || x < 0) return std::string("must be a number >= 0");
        return Distribution{Distribution::Kind::constant, x, 0};
    }
    if (!v.is_object()) return std::string("must be a number or {\"dist\": ...}");
    const auto& o = v.get_object();
    const auto* dist = o.if_contains("dist");
    if (dist == nullptr || !dist->is_string()) {
        return std::string("needs \"dist\": constant, uniform, normal, lognormal or exponential");
    }
    const auto* k = std::find_if(std::begin(kinds), std::end(kinds), [&](const KindFields& f) { return dist->get_string() == f.name; });
    if (k == std::end(kinds)) {
        return "dist \"" + std::string(dist->get_string()) + "\" is not one of constant, uniform, normal, lognormal, exponential";
    }
    for (const auto& [key, value] : o) {
        if (key != "dist" && key != k->first && (k->second == nullptr || key != k->second)) {
            return "unknown field \"" + std::string(key) + "\" for " + k->name;
        }
    }
    Distribution d{k->kind, 0, 0};
    for (auto [name, out] : {std::pair{k->first, &d.a}, {k->second, &d.b}}) {
        if (name == nullptr) continue;
        auto read = field(o, name, k->name);
        if (auto* e = std::get_if<std::string>(&read)) return *e;
        *out = std::get<double>(read);
    }
    if (auto e = check(d)) return *e;
    return d;
}

}  // namespace cppworker::simulate
