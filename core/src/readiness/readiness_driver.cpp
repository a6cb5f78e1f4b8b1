#include "readiness/readiness_driver.hpp"

#include "readiness/benchmark.hpp"
#include "readiness/log_matcher.hpp"
#include "readiness/log_tail.hpp"
#include "async/sleep.hpp"
#include "logging/error_text.hpp"
#include "http1/client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>

namespace cppworker::readiness {
namespace asio = boost::asio;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

// Probes the model server every 10 s (core/protocol.md §8.4). Failures before the first success are the model
// still starting; after it, they are an error.
asio::awaitable<void> probe_health(ReadinessState& state, http1::Url url, std::shared_ptr<std::atomic<bool>> healthy) {
    for (;;) {
        std::string failure;
        try {
            const auto r = co_await http1::http_call(boost::beast::http::verb::get, url, {}, {}, 10s);
            if (r.status == 200) {
                if (!healthy->exchange(true)) spdlog::info("model server healthy at {}", url.target);
            } else {
                failure = "Healthcheck failed with status: " + std::to_string(r.status);
            }
        } catch (const std::exception& e) {
            failure = logging::error_text(e);
        }
        if (!failure.empty() && healthy->load()) {
            spdlog::error("{}", failure);
            state.set_error(failure);
        }
        co_await async::sleep_for(10s);
    }
}

// Waits up to `limit` for `condition`, polling: soon at first (a model server already up is
// healthy within milliseconds, and start-to-ready is what an autoscaled instance waits for), then
// every 100 ms. False when it did not come.
template <class Condition>
asio::awaitable<bool> wait_until(Condition condition, std::chrono::milliseconds limit) {
    const auto deadline = Clock::now() + limit;
    std::chrono::milliseconds pause = 2ms;
    while (!condition()) {
        if (Clock::now() >= deadline) co_return false;
        co_await async::sleep_for(pause);
        pause = std::min(2 * pause, std::chrono::milliseconds(100ms));
    }
    co_return true;
}

asio::awaitable<void> loaded_sequence(const ReadinessParts& parts, const ReadinessSettings& settings) {
    auto& state = parts.state;
    const double max_perf = co_await run_benchmark(parts.plugin, parts.send, settings.benchmark_cache, state);
    const std::string health_path = settings.health_path.value_or(parts.plugin.shape().readiness.health_path);
    if (!health_path.empty()) {
        const auto url = http1::resolve(settings.model_server_url, health_path);
        if (!url) {
            spdlog::warn("the plugin names health path {}, but MODEL_SERVER_URL is not set: no health probe", health_path);
        } else {
            auto healthy = std::make_shared<std::atomic<bool>>(false);
            asio::co_spawn(co_await asio::this_coro::executor, probe_health(state, *url, healthy), asio::detached);
            if (!co_await wait_until([&] { return healthy->load(); }, 300s)) {
                state.set_error(
                    "Benchmark failed with error: Timed out waiting for healthcheck after benchmark (waited 300s)");
            }
        }
    }
    if (parts.has_key && !co_await wait_until(parts.has_key, 60s)) {
        state.set_error("Failed to get Serverless public key after all retry attempts");
    }
    state.set_loaded(max_perf);
    const auto v = state.view();
    spdlog::info("backend loaded: loadtime {:.3f} s, max_perf {}{}", v.loadtime, v.max_perf,
                 v.error_msg.empty() ? "" : ", but with error: " + v.error_msg);
}

asio::awaitable<void> follow_model_log(const ReadinessParts& parts, const ReadinessSettings& settings) {
    const auto& spec = parts.plugin.shape().readiness;
    LogTail tail(settings.model_log);
    const LogMatcher matcher(spec.load_patterns, spec.error_patterns, spec.info_patterns);
    spdlog::info("watching {} for the model's load and error lines", settings.model_log);
    bool loaded = false;
    for (;;) {
        for (const auto& line : tail.poll()) {
            const auto m = matcher.match(line);
            switch (m.action) {
            case LogAction::loaded:
                // PyWorker reruns its loaded sequence on every such line; once is what it means.
                if (!loaded) {
                    loaded = true;
                    spdlog::info("model log says loaded: {}", line);
                    co_await loaded_sequence(parts, settings);
                }
                break;
            case LogAction::error:
                spdlog::error("model log error: {}", line);
                parts.state.set_error(m.pattern);
                break;
            case LogAction::info: spdlog::info("Info from model logs: {}", line); break;
            case LogAction::none: break;
            }
        }
        // A poll that stopped at its read limit has more waiting: read on without a pause.
        co_await async::sleep_for(tail.backlog() ? 0ms : tail.waiting() ? 1000ms : 100ms);
    }
}

}  // namespace

asio::awaitable<void> drive_readiness(ReadinessParts parts, ReadinessSettings settings) {
    try {
        if (!parts.plugin.shape().readiness.load_patterns.empty() && !settings.model_log.empty()) {
            co_await follow_model_log(parts, settings);
        } else {
            spdlog::info("readiness from the plugin's ready hook{}", settings.model_log.empty() ? " (no MODEL_LOG)" : "");
            co_await wait_until([&] { return parts.plugin.ready(); }, std::chrono::hours(24 * 365));
            co_await loaded_sequence(parts, settings);
        }
    } catch (const std::exception& e) {
        spdlog::error("readiness: {}", logging::error_text(e));
        parts.state.set_error("Benchmark failed with error: " + logging::error_text(e));
    }
}

}  // namespace cppworker::readiness
