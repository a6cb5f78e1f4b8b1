#include "readiness/benchmark.hpp"

#include "pyjson/dumps.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <spdlog/spdlog.h>

#include <fstream>

namespace cppworker::readiness {
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

std::optional<double> best_throughput(const std::vector<RunResult>& runs) {
    std::optional<double> best;
    for (const auto& r : runs) {
        if (r.successful_workload <= 0 || r.seconds <= 0) continue;
        const double throughput = r.successful_workload / r.seconds;
        if (!best || throughput > *best) best = throughput;
    }
    return best;
}

std::optional<double> read_benchmark_cache(const std::filesystem::path& file) {
    std::ifstream in(file);
    std::string line;
    if (!in || !std::getline(in, line)) return std::nullopt;
    try {
        std::size_t used = 0;
        const double v = std::stod(line, &used);
        if (v > 0 && line.find_first_not_of(" \t\r", used) == std::string::npos) return v;
    } catch (const std::exception&) {
    }
    return std::nullopt;
}

void write_benchmark_cache(const std::filesystem::path& file, double max_perf) {
    std::ofstream out(file);
    out << pyjson::float_repr(max_perf);
    if (!out) spdlog::warn("cannot write the benchmark cache {}", file.string());
}

namespace {

// Sends `payloads` at once and waits for every answer.
asio::awaitable<RunResult> one_run(const InternalRequests& send, uint32_t route, std::vector<std::string> payloads) {
    const auto executor = co_await asio::this_coro::executor;
    auto all_done = std::make_shared<asio::steady_timer>(executor, Clock::time_point::max());
    auto remaining = std::make_shared<std::size_t>(payloads.size());
    auto result = std::make_shared<RunResult>();
    const auto started = Clock::now();
    for (auto& payload : payloads) {
        // Completions run on this coroutine's executor (the primary loop, one thread), so the counters need no lock.
        asio::co_spawn(executor, send(route, std::move(payload)),
                       [remaining, result, all_done](std::exception_ptr, InternalOutcome o) {
                           if (o.status == 200) result->successful_workload += o.workload;
                           if (--*remaining == 0) all_done->cancel();
                       });
    }
    if (*remaining > 0) co_await all_done->async_wait(asio::as_tuple(asio::use_awaitable));
    result->seconds = std::chrono::duration<double>(Clock::now() - started).count();
    co_return *result;
}

}  // namespace

asio::awaitable<double> run_benchmark(plugin::LoadedPlugin& plugin, const InternalRequests& send,
                                      const std::filesystem::path& cache, ReadinessState& state) {
    if (const auto cached = read_benchmark_cache(cache)) {
        spdlog::info("benchmark: using the cached result in {}: max_perf {}", cache.string(), *cached);
        co_return *cached;
    }
    const auto& spec = plugin.shape().readiness;
    const auto& route = plugin.shape().routes.at(spec.benchmark_route);
    uint32_t index = 0;
    if (!plugin.benchmark_payload(0)) {
        spdlog::warn("the plugin gives no benchmark payload: max_perf stays 0, and an autoscaler sends no work");
        co_return 0.0;
    }
    // PyWorker runs a benchmark of a one-at-a-time route one request at a time.
    const uint32_t concurrency = route.concurrency == CPPW_CONCURRENCY_FIFO    ? 1
                                 : route.concurrency == CPPW_CONCURRENCY_LIMIT ? std::min(route.limit, spec.benchmark_concurrency)
                                                                               : spec.benchmark_concurrency;
    spdlog::info("benchmark: {} run(s) of {} request(s) on {}", spec.benchmark_runs, concurrency, route.path);

    const auto payload_for = [&](uint32_t i) { return plugin.benchmark_payload(i).value_or("{}"); };
    std::vector<std::string> warm_up{payload_for(index++)};
    co_await one_run(send, spec.benchmark_route, std::move(warm_up));  // not counted

    std::vector<RunResult> runs;
    for (uint32_t run = 0; run < spec.benchmark_runs; ++run) {
        std::vector<std::string> payloads;
        for (uint32_t i = 0; i < concurrency; ++i) payloads.push_back(payload_for(index++));
        runs.push_back(co_await one_run(send, spec.benchmark_route, std::move(payloads)));
        spdlog::info("benchmark run {}: {} workload in {:.3f} s", run + 1, runs.back().successful_workload,
                     runs.back().seconds);
    }
    const auto best = best_throughput(runs);
    if (!best) {
        state.set_error("No successful responses from benchmark");
        co_return 0.0;
    }
    write_benchmark_cache(cache, *best);
    spdlog::info("benchmark: max_perf {} workload/s", *best);
    co_return *best;
}

}  // namespace cppworker::readiness
