#include "config/engine_config.hpp"

#include <CLI/CLI.hpp>
#include <boost/json.hpp>

#include <cmath>
#include <fstream>
#include <iterator>

namespace cppworker::engine {
namespace json = boost::json;

namespace {

std::optional<std::string> read_strings(const json::value& v, std::vector<std::string>& out) {
    if (!v.is_array()) return "must be a list of strings";
    for (const auto& s : v.get_array()) {
        if (!s.is_string()) return "must be a list of strings";
        out.emplace_back(s.get_string());
    }
    return std::nullopt;
}

std::optional<std::string> read_template(const std::string& name, const json::value& v, Template& t) {
    if (!v.is_object()) return "must be an object";
    const auto& o = v.get_object();
    t.name = name;
    const auto* command = o.if_contains("command");
    if (command == nullptr) return "needs a \"command\"";
    if (auto e = read_strings(*command, t.command)) return "command " + *e;
    if (t.command.empty()) return "command must not be empty";
    if (const auto* env = o.if_contains("env")) {
        if (!env->is_object()) return "env must be an object of strings";
        for (const auto& [k, value] : env->get_object()) {
            if (!value.is_string()) return "env." + std::string(k) + " must be a string";
            t.env[std::string(k)] = std::string(value.get_string());
        }
    }
    if (const auto* ports = o.if_contains("ports")) {
        if (auto e = read_strings(*ports, t.ports)) return "ports " + *e;
    }
    if (const auto* perf = o.if_contains("expected_perf")) {
        if (!perf->is_number() || perf->to_number<double>() < 0) return "expected_perf must be a number >= 0";
        t.expected_perf = perf->to_number<double>();
    }
    return std::nullopt;
}

// A number field of an object, checked: missing leaves `out` as it is.
std::optional<std::string> read_number(const json::object& o, const char* name, double& out, double min) {
    const auto* v = o.if_contains(name);
    if (v == nullptr) return std::nullopt;
    if (!v->is_number() || !std::isfinite(v->to_number<double>()) || v->to_number<double>() < min) {
        return std::string(name) + " must be a number >= " + std::to_string(static_cast<int>(min));
    }
    out = v->to_number<double>();
    return std::nullopt;
}

}  // namespace

std::optional<std::string> read_tuning(const json::object& o, PolicyTuning& t) {
    for (auto [name, field] : {std::pair{"stable_window", &t.stable_window}, {"panic_window", &t.panic_window},
                               {"tolerance", &t.tolerance}, {"scale_down_delay", &t.scale_down_delay},
                               {"error_backoff_max", &t.error_backoff_max}}) {
        if (auto e = read_number(o, name, *field, 0)) return e;
    }
    return std::nullopt;
}

std::optional<std::string> read_lifetimes(const json::object& o, Lifetimes& l) {
    if (auto e = read_number(o, "lost_after", l.lost_after, 1)) return e;
    return read_number(o, "ready_within", l.ready_within, 1);
}

std::optional<std::string> read_config_file(const json::object& file, EngineConfig& config) {
    if (const auto* templates = file.if_contains("templates")) {
        if (!templates->is_object()) return std::string("templates must be an object");
        for (const auto& [name, t] : templates->get_object()) {
            Template read;
            if (auto e = read_template(std::string(name), t, read)) return "templates." + std::string(name) + ": " + *e;
            config.templates[read.name] = std::move(read);
        }
    }
    if (const auto* endpoints = file.if_contains("endpoints")) {
        if (!endpoints->is_array()) return std::string("endpoints must be a list");
        for (const auto& e : endpoints->get_array()) {
            if (!e.is_object()) return std::string("endpoints must be a list of objects");
            config.endpoints.push_back(e.get_object());
        }
    }
    if (const auto* tuning = file.if_contains("tuning")) {
        if (!tuning->is_object()) return std::string("tuning must be an object");
        if (auto e = read_tuning(tuning->get_object(), config.tuning)) return "tuning: " + *e;
    }
    if (const auto* lifetimes = file.if_contains("lifetimes")) {
        if (!lifetimes->is_object()) return std::string("lifetimes must be an object");
        if (auto e = read_lifetimes(lifetimes->get_object(), config.lifetimes)) return "lifetimes: " + *e;
    }
    return std::nullopt;
}

ConfigResult parse_engine_config(int argc, const char* const* argv, const std::filesystem::path& exe_dir) {
    EngineConfig c;
    c.bin_dir = exe_dir;
    std::string run_dir = "engine-run", config_file, port_file;
    double stop_grace = 60;
    CLI::App app{"cppworker-engine: Vast's serverless engine on one machine: routes, signs, reads the workers' "
                 "reports and scales local workers"};
    app.option_defaults()->always_capture_default();
    app.add_option("--port", c.port, "port of the client, web and worker APIs")->envname("ENGINE_PORT");
    app.add_option("--listen", c.listen_address, "address to listen on")->envname("ENGINE_LISTEN_ADDR");
    app.add_option("--api-key", c.api_key, "the account key of the web API (generated and printed when unset)")
        ->envname("ENGINE_API_KEY");
    app.add_option("--run-dir", run_dir, "folder for the signing key, the workers' folders and logs")
        ->envname("ENGINE_RUN_DIR");
    app.add_option("--config", config_file, "config file: templates, endpoints, tuning (JSON)")
        ->envname("ENGINE_CONFIG");
    app.add_option("--port-file", port_file, "write the bound port to this file once listening")
        ->envname("ENGINE_PORT_FILE");
    app.add_option("--signature-scheme", c.signature_scheme,
                   "what /route/ signs: url (Vast Gen 3, worker 1.1.0) or fields (1.0.0 and Gen 2)")
        ->envname("ENGINE_SIGNATURE_SCHEME")->check(CLI::IsMember({"url", "fields"}));
    app.add_option("--tick", c.tick_seconds, "seconds between two runs of the scaling policy")
        ->check(CLI::PositiveNumber);
    app.add_option("--stop-grace", stop_grace, "seconds a stopped worker has to drain before it is killed")
        ->check(CLI::PositiveNumber);
    app.add_option("--log-level", c.log_level, "debug, info, warn or error")
        ->envname("LOG_LEVEL")->check(CLI::IsMember({"debug", "info", "warn", "error"}));
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const bool help = e.get_exit_code() == 0;
        return ConfigResult{std::nullopt, help ? 0 : 2,
                            help ? app.help() : "cppworker-engine: " + std::string(e.what()) + "\n"};
    }
    c.run_dir = std::filesystem::absolute(run_dir);
    if (!port_file.empty()) c.port_file = port_file;
    c.stop_grace = std::chrono::milliseconds(static_cast<long long>(stop_grace * 1000));
    if (!config_file.empty()) {
        c.config_file = config_file;
        std::ifstream in(config_file);
        if (!in) {
            return ConfigResult{std::nullopt, 2, "cppworker-engine: cannot read the config file " + config_file + "\n"};
        }
        json::error_code ec;
        const auto doc = json::parse(std::string(std::istreambuf_iterator<char>(in), {}), ec);
        if (ec || !doc.is_object()) {
            return ConfigResult{std::nullopt, 2, "cppworker-engine: " + config_file + " is not a JSON object\n"};
        }
        if (auto e = read_config_file(doc.get_object(), c)) {
            return ConfigResult{std::nullopt, 2, "cppworker-engine: " + config_file + ": " + *e + "\n"};
        }
    }
    return ConfigResult{std::move(c), 0, {}};
}

}  // namespace cppworker::engine
