#pragma once

#include "fleet/worker.hpp"
#include "policy/policy.hpp"

#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cppworker::engine {

// How to run one kind of worker on this machine: what a workergroup's template_hash names. The
// command and the environment's values may hold placeholders: {bin} (the engine's own folder,
// where the worker and its plugins are built beside it), {config_dir} (the config file's folder,
// so a config file can name the launchers beside it), {folder} (the worker's folder), {port} (its
// WORKER_PORT) and {NAME} for each NAME of `ports`.
struct Template {
    std::string name;
    std::vector<std::string> command;
    std::map<std::string, std::string> env;
    std::vector<std::string> ports;  // environment variables that get a free port of their own
    double expected_perf = 0;        // load units/s a worker serves, until one has benchmarked
};

struct EngineConfig {
    std::string listen_address = "127.0.0.1";
    uint16_t port = 8080;                 // ENGINE_PORT: where Vast's client looks for a local engine
    std::string api_key;                  // ENGINE_API_KEY: the account key of the web API
    std::filesystem::path run_dir;        // the signing key, the workers' folders and the pid file
    std::filesystem::path config_file;
    std::optional<std::filesystem::path> port_file;  // the bound port is written here once listening
    std::filesystem::path bin_dir;        // {bin}
    std::string log_level = "info";
    double tick_seconds = 1;              // how often the policy runs
    // What /route/'s signature covers: "url", as Vast's Gen 3 (worker 1.1.0) signs; or "fields"
    // (cost, endpoint, reqnum, request_idx, url), as Gen 3 1.0.0 and Gen 2 did, which a worker
    // checks against its replay window.
    std::string signature_scheme = "url";
    std::chrono::milliseconds stop_grace{60'000};  // a stopped or destroyed worker's drain, at most
    std::map<std::string, Template> templates;
    std::vector<boost::json::object> endpoints;  // created at start: endpoint fields and "workergroups"
    PolicyTuning tuning;
    Lifetimes lifetimes;
};

// Outcome of reading the command line and the config file: a config, or an exit code and text for
// the console (help is not an error).
struct ConfigResult {
    std::optional<EngineConfig> config;
    int exit_code = 0;
    std::string message;
};

// Flags win over environment variables (ENGINE_PORT, ENGINE_API_KEY, ENGINE_RUN_DIR,
// ENGINE_CONFIG, LOG_LEVEL); the config file gives templates, endpoints and tuning. `exe_dir` is
// {bin}.
ConfigResult parse_engine_config(int argc, const char* const* argv, const std::filesystem::path& exe_dir);

// The config file's "tuning" object over `tuning`; an error names the field. The simulator reads
// its tuning (and lifetimes) with these too, so both take the same fields.
std::optional<std::string> read_tuning(const boost::json::object& o, PolicyTuning& tuning);
// The config file's "lifetimes" object over `lifetimes`, likewise.
std::optional<std::string> read_lifetimes(const boost::json::object& o, Lifetimes& lifetimes);

// The config file's "templates", "endpoints", "tuning" and "lifetimes" over `config`; an error
// names the file's field and what is wrong with it.
std::optional<std::string> read_config_file(const boost::json::object& file, EngineConfig& config);

}  // namespace cppworker::engine
