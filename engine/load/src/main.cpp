// cppworker-load: Vast's client under load, against cppworker-engine or one worker (README, "Load:
// cppworker-load"). Exit status: 0 when every gate passed, 1 when the SLO or the error budget was
// missed, 2 for bad input or a target that cannot be loaded.
#include "cli.hpp"
#include "engine_api.hpp"
#include "runner.hpp"

#include "report/run.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>

#include <fmt/format.h>

#include <fstream>
#include <iostream>
#include <sstream>

#include <unistd.h>

namespace {

using namespace cppworker::load;

std::optional<std::string> read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void write_file(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary);
    out << text;
    if (!out.flush()) throw std::runtime_error("cannot write " + path);
}

// The profile file, or a one-step profile from --rate and --duration; throws with the line.
Profile profile_of(const Cli& c) {
    if (c.profile_file.empty()) return Profile{{*c.rate, *c.rate, c.seconds}};
    const auto text = read_file(c.profile_file);
    if (!text) throw std::runtime_error("cannot read --profile " + c.profile_file);
    auto parsed = cppworker::profile::parse_profile(*text);
    if (auto* e = std::get_if<cppworker::profile::ParseError>(&parsed)) {
        throw std::runtime_error(cppworker::profile::describe(*e, c.profile_file));
    }
    return std::get<Profile>(parsed);
}

std::function<Payload(uint32_t)> payloads_of(const Cli& c) {
    if (c.payloads_file.empty()) {
        auto options = c.generator;
        const auto path = c.path;
        const auto cost = c.cost;
        return [options, path, cost](uint32_t i) {
            auto p = generate(options, i);
            if (!path.empty()) p.path = path;
            if (cost) p.cost = *cost;
            return p;
        };
    }
    const auto text = read_file(c.payloads_file);
    if (!text) throw std::runtime_error("cannot read --payloads " + c.payloads_file);
    const auto path = c.path.empty() ? default_path(c.backend, c.generator.stream) : c.path;
    auto read = read_payloads(*text, FileOptions{c.backend, path, c.cost});
    if (auto* e = std::get_if<std::string>(&read)) throw std::runtime_error(c.payloads_file + ": " + *e);
    auto all = std::make_shared<std::vector<Payload>>(std::move(std::get<std::vector<Payload>>(read)));
    return [all](uint32_t i) { return (*all)[i % all->size()]; };
}

RunOptions options_of(const Cli& c) {
    RunOptions o;
    o.shape.open = c.concurrency == 0;
    if (o.shape.open) o.shape.profile = profile_of(c);
    o.shape.arrivals = c.arrivals;
    o.shape.concurrency = c.concurrency;
    o.shape.seconds = c.seconds;
    o.rules = c.rules;
    o.payload = payloads_of(c);
    o.seed = c.seed;
    o.progress = c.progress.value_or(::isatty(STDERR_FILENO) == 1);
    const auto url = parse_url(c.engine.empty() ? c.worker : c.engine);
    if (!url) throw std::runtime_error("'" + (c.engine.empty() ? c.worker : c.engine) + "' is not an http://host:port URL");
    o.target.url = *url;
    o.target.via_engine = !c.engine.empty();
    if (o.target.via_engine) {
        // As the SDK client does: the account key finds the endpoint, whose own key routes.
        boost::asio::io_context io;
        HttpClient client(io.get_executor());
        auto found = boost::asio::co_spawn(io, find_endpoint(client, *url, c.endpoint, c.api_key), boost::asio::use_future);
        io.run();
        auto ref = found.get();
        if (auto* e = std::get_if<std::string>(&ref)) throw std::runtime_error(*e);
        o.target.endpoint = c.endpoint;
        o.target.endpoint_key = std::get<EndpointRef>(ref).key;
        o.endpoint_id = std::get<EndpointRef>(ref).id;
        o.account_key = c.api_key;
    }
    return o;
}

}  // namespace

int main(int argc, char** argv) {
    auto parsed = parse_cli(argc, argv);
    if (auto* exit = std::get_if<CliExit>(&parsed)) {
        (exit->code == 0 ? std::cout : std::cerr) << exit->message;
        return exit->code;
    }
    const auto& cli = std::get<Cli>(parsed);
    try {
        const auto options = options_of(cli);
        const auto run = run_load(options);
        const auto summary = summarize(run.records, run.seconds, cli.gates.slo);
        const auto missed_gates = missed(summary, cli.gates);
        std::cout << text_report(summary, missed_gates) << std::flush;
        if (!cli.json_file.empty()) {
            write_file(cli.json_file, boost::json::serialize(results_json(summary, run, cli.settings, missed_gates)) + "\n");
        }
        const auto title = !cli.title.empty() ? cli.title
                           : options.target.via_engine
                               ? fmt::format("cppworker-load: endpoint {} at {}", cli.endpoint, cli.engine)
                               : fmt::format("cppworker-load: worker {}", cli.worker);
        if (!cli.svg_file.empty() || !cli.html_file.empty()) {
            const auto picture = report_of(summary, run, cli.settings, title);
            if (!cli.svg_file.empty()) write_file(cli.svg_file, cppworker::report::svg(picture));
            if (!cli.html_file.empty()) write_file(cli.html_file, cppworker::report::html(picture));
        }
        return missed_gates.empty() ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "cppworker-load: " << e.what() << "\n";
        return 2;
    }
}
