#include "autoscaler/post.hpp"

#include "async/sleep.hpp"
#include "http1/client.hpp"
#include "logging/error_text.hpp"

#include <spdlog/spdlog.h>

namespace cppworker::autoscaler {
namespace asio = boost::asio;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

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

void log_success(logging::RepeatedFailure& failures, const std::string& what) {
    if (const auto line = failures.succeeded(what, Clock::now())) {
        spdlog::info("{} works again, after {} failed tries in {} s", what, line->failures, whole_seconds(line->elapsed));
    }
}

}  // namespace

// A report that cannot be delivered is retried every couple of seconds; beyond the first failure
// the log gets one line a minute per address, which says enough.
logging::RepeatedFailure failure_log() { return logging::RepeatedFailure(60s); }

asio::awaitable<bool> post_with_failover(const std::vector<std::string>& addresses, const std::string& path,
                                         const std::string& body, logging::RepeatedFailure& failures) {
    for (const auto& address : addresses) {
        const auto url = http1::parse_url(address + path);
        if (!url) {
            spdlog::warn("autoscaler address {} is not an http(s) URL; skipped", address);
            continue;
        }
        const std::string what = "POST " + address + path;
        for (int attempt = 1; attempt <= 3; ++attempt) {
            std::string failure;
            try {
                const auto r =
                    co_await http1::http_call(boost::beast::http::verb::post, *url, body, "application/json", 10s);
                if (r.status < 400) {
                    log_success(failures, what);
                    co_return true;
                }
                failure = "status " + std::to_string(r.status);
            } catch (const std::exception& e) {
                failure = logging::error_text(e);
            }
            spdlog::debug("{} failed (try {}/3): {}", what, attempt, failure);
            log_failure(failures, what, failure);
            co_await async::sleep_for(2s);
        }
    }
    co_return false;
}

}  // namespace cppworker::autoscaler
