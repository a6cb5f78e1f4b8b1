// cppworker-simulate: the engine's scaling policy run in virtual time against simulated workers
// and a load trace; prints cost, queue times, refused requests and worker-hours, and draws the run.
#include "output.hpp"
#include "profile_trace.hpp"
#include "sim_config.hpp"
#include "simulation.hpp"

#include "report/run.hpp"

#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <fmt/format.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <sstream>

namespace sim = cppworker::simulate;
namespace json = boost::json;

namespace {

std::optional<std::string> read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    return std::string(std::istreambuf_iterator<char>(in), {});
}

bool write_file(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary);
    out << text;
    return static_cast<bool>(out.flush());
}

struct Options {
    std::string config, profile, arrivals, svg, html;
    bool json = false;
    std::optional<uint64_t> seed;
    double sample_every = 0;
};

// The config and the trace the options name; an error names the file and what is wrong.
std::optional<std::string> load(const Options& o, sim::SimConfig& config, sim::Trace& trace) {
    if (!o.config.empty()) {
        const auto text = read_file(o.config);
        if (!text) return fmt::format("{}: cannot be read", o.config);
        boost::system::error_code ec;
        const auto value = json::parse(*text, ec);
        if (ec || !value.is_object()) return fmt::format("{}: not a JSON object ({})", o.config, ec ? ec.message() : "");
        auto read = sim::read_sim_config(value.get_object());
        if (auto* e = std::get_if<std::string>(&read)) return fmt::format("{}: {}", o.config, *e);
        config = std::get<sim::SimConfig>(read);
    }
    if (o.seed) config.seed = *o.seed;
    const std::string& path = o.profile.empty() ? o.arrivals : o.profile;
    const auto text = read_file(path);
    if (!text) return fmt::format("{}: cannot be read", path);
    if (!o.profile.empty()) {
        auto read = sim::profile_trace(*text, path);
        if (auto* e = std::get_if<std::string>(&read)) return *e;
        trace = std::get<sim::Trace>(read);
    } else {
        auto read = sim::read_arrivals_csv(*text);
        if (auto* e = std::get_if<std::string>(&read)) return fmt::format("{}: {}", path, *e);
        trace = sim::arrivals_trace(std::get<std::vector<sim::Arrival>>(std::move(read)));
    }
    return std::nullopt;
}

sim::Settings settings_of(const Options& o, const sim::SimConfig& c, const sim::Trace& trace) {
    const auto& p = c.params;
    return {{"config", o.config.empty() ? "(defaults)" : o.config},
            {"trace", o.profile.empty() ? o.arrivals : o.profile},
            {"duration_s", fmt::format("{}", trace.duration)},
            {"seed", fmt::format("{}", c.seed)},
            {"step_s", fmt::format("{}", c.step)},
            {"tick_s", fmt::format("{}", c.tick)},
            {"arrivals", c.poisson ? "poisson" : "fluid"},
            {"params", fmt::format("target_util {} cold_mult {} cold_workers {} max_workers {} min_load {} "
                                   "target_queue_time {} max_queue_time {}",
                                   p.target_util, p.cold_mult, p.cold_workers, p.max_workers, p.min_load,
                                   p.target_queue_time, p.max_queue_time)},
            {"tuning", fmt::format("stable_window {} panic_window {} tolerance {} scale_down_delay {}",
                                   c.tuning.stable_window, c.tuning.panic_window, c.tuning.tolerance,
                                   c.tuning.scale_down_delay)}};
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    CLI::App app{"cppworker-simulate: the engine's scaling policy in virtual time, against simulated workers and a "
                 "load trace"};
    app.add_option("--config", o.config, "JSON: workers (distributions), params, tuning, seed, step, tick, ...")
        ->check(CLI::ExistingFile);
    auto* profile = app.add_option("--profile", o.profile, "cppworker-load's profile file: steps and ramps of req/s")
                        ->check(CLI::ExistingFile);
    auto* arrivals = app.add_option("--arrivals", o.arrivals, "CSV of arrivals: time (s), cost (load units)")
                         ->check(CLI::ExistingFile);
    profile->excludes(arrivals);
    app.add_flag("--json", o.json, "print the figures as JSON");
    app.add_option("--svg", o.svg, "write the run's plot as an SVG image here");
    app.add_option("--html", o.html, "write the run's plot and figures as an HTML page here");
    app.add_option("--seed", o.seed, "overrides the config's seed");
    app.add_option("--sample", o.sample_every, "s between two points of the plots (default: about 720 points)")
        ->check(CLI::NonNegativeNumber);
    CLI11_PARSE(app, argc, argv);
    if (o.profile.empty() && o.arrivals.empty()) {
        std::cerr << "cppworker-simulate: a trace is needed: --profile FILE or --arrivals FILE\n";
        return 2;
    }
    sim::SimConfig config;
    sim::Trace trace;
    if (auto e = load(o, config, trace)) {
        std::cerr << "cppworker-simulate: " << *e << "\n";
        return 2;
    }
    const auto wall_began = std::chrono::steady_clock::now();
    const std::clock_t cpu_began = std::clock();
    const auto result = sim::simulate(config, trace, o.sample_every);
    const sim::Timing timing{std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_began).count(),
                             static_cast<double>(std::clock() - cpu_began) / CLOCKS_PER_SEC};
    const auto settings = settings_of(o, config, trace);
    if (o.json) {
        std::cout << json::serialize(sim::json_report(result, timing, settings)) << "\n";
    } else {
        std::cout << sim::text_report(result, timing);
    }
    const auto run = sim::plot_run(result, settings, "cppworker-simulate: " + settings[1].second);
    for (const auto& [path, text] : {std::pair{o.svg, &cppworker::report::svg}, {o.html, &cppworker::report::html}}) {
        if (path.empty()) continue;
        if (!write_file(path, text(run))) {
            std::cerr << "cppworker-simulate: " << path << ": cannot be written\n";
            return 1;
        }
    }
    return 0;
}
