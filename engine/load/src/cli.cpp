#include "cli.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdlib>

namespace cppworker::load {

namespace {

// "30s", "500ms", "2m", or a bare number of seconds.
std::string read_duration(const std::string& text, double& out) {
    if (auto d = profile::parse_duration(text)) {
        out = *d;
        return {};
    }
    char* end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    if (!text.empty() && end == text.c_str() + text.size() && v > 0) {
        out = v;
        return {};
    }
    return fmt::format("'{}' is not a duration > 0 (like 30s, 500ms, 2m, or seconds)", text);
}

std::chrono::milliseconds millis(double seconds) {
    return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
}

struct Raw {
    std::string duration, timeout = "600s", route_timeout = "60s", arrivals = "constant", backend = "hello_world";
    std::optional<double> slo_ttft_ms, slo_itl_ms, slo_latency_ms, max_error_rate;
    bool progress = false, no_progress = false;
};

void add_options(CLI::App& app, Cli& c, Raw& raw) {
    app.add_option("--engine", c.engine, "the engine's URL (http://127.0.0.1:8080): route every request")->group("Target");
    app.add_option("--endpoint", c.endpoint, "the endpoint's name, with --engine")->group("Target");
    app.add_option("--api-key", c.api_key, "the account key, with --engine")->envname("VAST_API_KEY")->group("Target");
    app.add_option("--worker", c.worker, "a worker's URL: skip the route (the worker runs with UNSECURED=true)")->group("Target");
    app.add_option("--concurrency", c.concurrency, "closed loop: this many clients, each sending when its last answer ends")
        ->check(CLI::Range(1, 100000))->group("Load");
    app.add_option("--rate", c.rate, "open loop: requests per second, for --duration")->check(CLI::PositiveNumber)->group("Load");
    app.add_option("--profile", c.profile_file, "open loop: a file of steps and ramps (see README)")->group("Load");
    app.add_option("--duration", raw.duration, "how long --concurrency or --rate runs (30s, 2m, ...)")->group("Load");
    app.add_option("--arrivals", raw.arrivals, "open loop: constant or poisson")->capture_default_str()->group("Load");
    app.add_option("--seed", c.seed, "for Poisson arrivals and retry jitter")->capture_default_str()->group("Load");
    app.add_option("--backend", raw.backend, "hello_world, tgi, openai or other: the generator and the cost formula")
        ->capture_default_str()->group("Requests");
    app.add_option("--payloads", c.payloads_file, "a JSON-lines file of payloads, sent in turn (see README)")->group("Requests");
    app.add_option("--path", c.path, "the worker's route (default: the backend's)")->group("Requests");
    app.add_option("--cost", c.cost, "the cost of every request (default: as the backend's plugin sizes it)")
        ->check(CLI::NonNegativeNumber)->group("Requests");
    app.add_option("--prompt-words", c.generator.prompt_words, "generator: words per prompt")->capture_default_str()->group("Requests");
    app.add_option("--max-tokens", c.generator.max_tokens, "generator: tokens to generate (tgi, openai)")->capture_default_str()->group("Requests");
    app.add_flag("--stream", c.generator.stream, "generator: ask for a stream (tgi's /generate_stream, openai's stream)")->group("Requests");
    app.add_option("--max-retries", c.rules.max_retries, "re-routes after a transport error or a 408/429/5xx")
        ->capture_default_str()->check(CLI::Range(0, 100))->group("Requests");
    app.add_option("--timeout", raw.timeout, "per call to a worker (not streams)")->capture_default_str()->group("Requests");
    app.add_option("--route-timeout", raw.route_timeout, "how long a request may wait for a worker; then it is unrouted")
        ->capture_default_str()->group("Requests");
    app.add_option("--slo-ttft-ms", raw.slo_ttft_ms, "SLO: time to first token")->check(CLI::PositiveNumber)->group("Gates");
    app.add_option("--slo-itl-ms", raw.slo_itl_ms, "SLO: a request's mean inter-token latency")->check(CLI::PositiveNumber)->group("Gates");
    app.add_option("--slo-latency-ms", raw.slo_latency_ms, "SLO: latency to the last byte")->check(CLI::PositiveNumber)->group("Gates");
    app.add_option("--slo-attainment", c.gates.slo_attainment, "the share of requests that must meet the SLO")
        ->capture_default_str()->check(CLI::Range(0.0, 1.0))->group("Gates");
    app.add_option("--max-error-rate", raw.max_error_rate, "the share of requests allowed to end other than 2xx")
        ->check(CLI::Range(0.0, 1.0))->group("Gates");
    app.add_option("--json", c.json_file, "write every figure and the settings here")->group("Output");
    app.add_option("--svg", c.svg_file, "write the run's plot here")->group("Output");
    app.add_option("--html", c.html_file, "write a self-contained report here")->group("Output");
    app.add_option("--title", c.title, "the plot's and report's title")->group("Output");
    app.add_flag("--progress", raw.progress, "a live progress line on stderr (default: when it is a terminal)")->group("Output");
    app.add_flag("--no-progress", raw.no_progress, "no progress line")->group("Output");
}

// What the options say together; an error names the flags.
std::string combine(Cli& c, Raw& raw) {
    if (c.engine.empty() == c.worker.empty()) return "give either --engine (with --endpoint and --api-key) or --worker";
    if (!c.engine.empty() && (c.endpoint.empty() || c.api_key.empty())) {
        return "--engine needs --endpoint and --api-key (or VAST_API_KEY)";
    }
    const int shapes = (c.concurrency > 0) + c.rate.has_value() + !c.profile_file.empty();
    if (shapes != 1) return "give one of --concurrency, --rate or --profile";
    if (c.profile_file.empty()) {
        if (raw.duration.empty()) return "--concurrency and --rate need --duration";
        if (auto e = read_duration(raw.duration, c.seconds); !e.empty()) return "--duration: " + e;
    } else if (!raw.duration.empty()) {
        return "--duration goes with --concurrency or --rate; a --profile has its own";
    }
    double seconds = 0;
    if (auto e = read_duration(raw.timeout, seconds); !e.empty()) return "--timeout: " + e;
    c.rules.worker_timeout = millis(seconds);
    if (auto e = read_duration(raw.route_timeout, seconds); !e.empty()) return "--route-timeout: " + e;
    c.rules.route_timeout = millis(seconds);
    const auto arrivals = arrivals_named(raw.arrivals);
    if (!arrivals) return "--arrivals: '" + raw.arrivals + "' is not constant or poisson";
    c.arrivals = *arrivals;
    const auto backend = backend_named(raw.backend);
    if (!backend) return "--backend: '" + raw.backend + "' is not hello_world, tgi, openai or other";
    c.backend = c.generator.backend = *backend;
    if (c.backend == Backend::other && c.payloads_file.empty()) return "--backend other has no generator: give --payloads";
    auto ms = [](const std::optional<double>& v) { return v ? std::optional<double>(*v / 1000) : std::nullopt; };
    c.gates.slo = Slo{ms(raw.slo_ttft_ms), ms(raw.slo_itl_ms), ms(raw.slo_latency_ms)};
    c.gates.max_error_rate = raw.max_error_rate;
    if (raw.progress && raw.no_progress) return "--progress and --no-progress disagree";
    if (raw.progress || raw.no_progress) c.progress = raw.progress;
    return {};
}

}  // namespace

std::variant<Cli, CliExit> parse_cli(int argc, const char* const* argv) {
    CLI::App app{"cppworker-load: load a cppworker-engine endpoint (or one worker) as Vast's client does, and "
                 "report what came of it"};
    app.get_formatter()->column_width(34);
    Cli c;
    Raw raw;
    add_options(app, c, raw);
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp&) {
        return CliExit{0, app.help()};
    } catch (const CLI::ParseError& e) {
        return CliExit{2, std::string(e.what()) + "\nRun with --help for the options.\n"};
    }
    if (auto error = combine(c, raw); !error.empty()) return CliExit{2, error + "\n"};
    for (const auto* option : app.get_options()) {
        if (option->count() == 0 || option->get_name() == "--help") continue;
        const auto values = option->results();
        std::string joined;
        for (const auto& v : values) joined += (joined.empty() ? "" : " ") + v;
        const auto name = option->get_name();
        c.settings.emplace_back(name, name == "--api-key" ? std::string("(given)") : joined);
    }
    return c;
}

}  // namespace cppworker::load
