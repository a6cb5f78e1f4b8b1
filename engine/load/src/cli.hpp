#pragma once
// cppworker-load's command line: what to load, how, and where the figures go. Parsing only; the
// files it names are read by main.
#include "payloads.hpp"
#include "results.hpp"
#include "schedule.hpp"

#include <optional>
#include <string>
#include <variant>

namespace cppworker::load {

struct Cli {
    // Target: the engine (with an endpoint and the account key) or one worker.
    std::string engine, endpoint, api_key, worker;
    // Shape: a fixed concurrency, or a rate, or a profile file; duration for the first two.
    int concurrency = 0;
    std::optional<double> rate;
    std::string profile_file;
    double seconds = 0;
    Arrivals arrivals = Arrivals::constant;
    uint64_t seed = 1;
    // Requests.
    Backend backend = Backend::hello_world;
    std::string payloads_file, path;
    std::optional<double> cost;
    GeneratorOptions generator;
    SendRules rules;
    // Gates and outputs.
    Gates gates;
    std::string json_file, svg_file, html_file, title;
    std::optional<bool> progress;  // unset: when stderr is a terminal
    Settings settings;             // every option as given, for the results
};

struct CliExit {
    int code = 0;
    std::string message;  // --help's text (code 0) or what is wrong (code 2)
};

std::variant<Cli, CliExit> parse_cli(int argc, const char* const* argv);

}  // namespace cppworker::load
