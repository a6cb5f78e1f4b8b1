#pragma once
// What the load tool sends: payloads from a JSON-lines file or made by a generator for a backend,
// each with its route and its cost computed as the worker's plugin computes its workload (the
// plugins' own logic headers), so that /route/'s cost and the worker's load agree.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace cppworker::load {

struct Payload {
    std::string path;  // the worker's route, e.g. /generate
    std::string body;  // the payload object, serialized
    double cost = 100;
    bool stream = false;
};

enum class Backend { hello_world, tgi, openai, other };
std::optional<Backend> backend_named(std::string_view name);

struct GeneratorOptions {
    Backend backend = Backend::hello_world;
    unsigned prompt_words = 32;
    unsigned max_tokens = 64;
    bool stream = false;
};

// The cost of `body` sent to `path` as the backend's plugin sizes it; 100 (the SDK client's
// default) for a backend the tool does not know. Throws std::invalid_argument as the plugin would
// answer 422.
double cost_of(Backend backend, std::string_view path, std::string_view body);

// Payload `index` of the generator: prompts of random words, different for each index.
Payload generate(const GeneratorOptions& options, uint32_t index);

// Each non-empty line of `text` is a payload object, or {"payload": {...}, "path": "/route",
// "cost": n, "stream": bool} with any of the three left out. A line's cost, else `fixed_cost`,
// else the backend's sizing; its path, else `default_path`. An error names the line.
struct FileOptions {
    Backend backend = Backend::other;
    std::string default_path;
    std::optional<double> fixed_cost;
};
std::variant<std::vector<Payload>, std::string> read_payloads(std::string_view text, const FileOptions& options);

// The route a backend's generator posts to.
std::string default_path(Backend backend, bool stream);

}  // namespace cppworker::load
