#include "autoscaler/post.hpp"

#include "async/sleep.hpp"
#include "http1/client.hpp"
#include "logging/error_text.hpp"

#include <spdlog/spdlog.h>

#include <map>
#include <optional>

namespace cppworker::autoscaler {
namespace asio = boost::asio;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int rounds = 3;

long long whole_seconds(Clock::duration d) { return std::chrono::duration_cast<std::chrono::seconds>(d).count(); }

void log_failure(logging::RepeatedFailure& failures, const std::string& what, const std::string& reason) {
    const auto line = failures.failed(what, Clock::now());
    if (!line) return;
    if (line->kind == logging::RepeatedFailure::Line::Kind::first) {
        spdlog::warn("{} failed: {} (while it keeps failing, one line a minute sums it up)", what, reason);
    } else {
        spdlog::warn("{}: {} more tries failed in the last {} s, the last with: {}", what, line->failures,
                     whole_seconds(line->elapsed), reason);
    }
}

void log_success(Failover& failover, const std::string& address, const std::string& path, const std::string& first) {
    const std::string what = "POST " + address + path;
    if (const auto line = failover.failures.succeeded(what, Clock::now())) {
        spdlog::info("{} works again, after {} failed tries in {} s", what, line->failures, whole_seconds(line->elapsed));
    }
    auto& last = failover.taker[path];
    if (last == address || (last.empty() && address == first)) {
        last = address;
        return;
    }
    if (last.empty()) {
        spdlog::info("autoscaler: {} goes to {}, as {} did not take it", path, address, first);
    } else {
        spdlog::info("autoscaler: {} goes to {} now, no longer to {}", path, address, last);
    }
    last = address;
}

// One try: the failure's reason, or nothing when the address took the post.
asio::awaitable<std::optional<std::string>> try_post(const http1::Url& url, const std::string& body) {
    try {
        const auto r = co_await http1::http_call(boost::beast::http::verb::post, url, body, "application/json", 10s);
        if (r.status < 400) co_return std::nullopt;
        co_return "status " + std::to_string(r.status);
    } catch (const std::exception& e) {
        co_return logging::error_text(e);
    }
}

}  // namespace

// A report that cannot be delivered is retried every couple of seconds; beyond the first failure
// the log gets one line a minute per address, which says enough.
logging::RepeatedFailure failure_log() { return logging::RepeatedFailure(60s); }

asio::awaitable<bool> post_with_failover(Failover& failover, const std::vector<std::string>& addresses,
                                         const std::string& path, const std::string& body) {
    std::vector<std::string> usable;
    std::map<std::string, http1::Url> urls;
    for (const auto& address : addresses) {
        if (auto url = http1::parse_url(address + path)) {
            usable.push_back(address);
            urls.emplace(address, std::move(*url));
        } else {
            spdlog::warn("autoscaler address {} is not an http(s) URL; skipped", address);
        }
    }
    for (int round = 1; round <= rounds; ++round) {
        for (const auto& address : failover.preference.plan(usable, Clock::now())) {
            failover.preference.trying(address);
            const auto failure = co_await try_post(urls.at(address), body);
            if (!failure) {
                failover.preference.accepted(address);
                log_success(failover, address, path, usable.front());
                co_return true;
            }
            failover.preference.failed(address, Clock::now());
            const std::string what = "POST " + address + path;
            spdlog::debug("{} failed (try {}/{}): {}", what, round, rounds, *failure);
            log_failure(failover.failures, what, *failure);
        }
        co_await async::sleep_for(2s);
    }
    co_return false;
}

}  // namespace cppworker::autoscaler
