#include "autoscaler/client.hpp"

#include "async/sleep.hpp"
#include "logging/error_text.hpp"
#include "upstream/http_client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <spdlog/spdlog.h>

#include <sys/statvfs.h>

#include <optional>

namespace cppworker::autoscaler {
namespace asio = boost::asio;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

double disk_used_bytes() {
    struct statvfs st {};
    if (::statvfs("/", &st) != 0) return 0;
    return static_cast<double>(st.f_blocks - st.f_bfree) * static_cast<double>(st.f_frsize);
}

namespace {

// A report that cannot be delivered is retried every couple of seconds; beyond the first failure
// the log gets one line a minute per address, which says enough.
constexpr auto failure_summary_interval = 60s;

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

asio::awaitable<bool> post_with_failover(const std::vector<std::string>& addresses, const std::string& path,
                                         const std::string& body, logging::RepeatedFailure& failures) {
    for (const auto& address : addresses) {
        const auto url = upstream::parse_url(address + path);
        if (!url) {
            spdlog::warn("autoscaler address {} is not an http(s) URL; skipped", address);
            continue;
        }
        const std::string what = "POST " + address + path;
        for (int attempt = 1; attempt <= 3; ++attempt) {
            std::string failure;
            try {
                const auto r = co_await upstream::http_call(boost::beast::http::verb::post, *url, body,
                                                            "application/json", 10s);
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

namespace {

StatusInput status_now(server::ServerState& s, const ReportOptions& options, double additional_disk_usage) {
    const auto view = s.readiness.view();
    return StatusInput{view.loadtime,
                       status_error_msg(view.error_msg, view.loaded, options.previous_crash, *options.crash_reported),
                       view.max_perf, additional_disk_usage, s.ledger.snapshot()};
}

void status_accepted(server::ServerState& s, const ReportOptions& options, const StatusInput& status) {
    s.ledger.consume_interval(status.ledger);
    if (!options.previous_crash.empty() && status.error_msg == options.previous_crash) *options.crash_reported = true;
    if (options.accepted) options.accepted(status.ledger);
}

}  // namespace

asio::awaitable<void> report_status(server::ServerState& s, WorkerIdentity worker, ReportOptions options) {
    static const std::string undelivered = "status report undelivered";
    const auto addresses = split_report_addrs(s.config.report_addr);
    std::optional<Clock::time_point> last_accepted;
    uint64_t reported_generation = s.ledger.generation();
    double disk_before = disk_used_bytes();
    logging::RepeatedFailure failures(failure_summary_interval);
    for (;;) {
        co_await async::sleep_for(1s);
        const auto view = s.readiness.view();
        const auto generation = s.ledger.generation();
        const double elapsed = last_accepted ? std::chrono::duration<double>(Clock::now() - *last_accepted).count() : 1e9;
        const bool settled = view.loaded || !view.error_msg.empty();
        const bool due = generation != reported_generation || elapsed > 10 || (!settled && elapsed >= 10);
        if (!due) continue;

        const double disk_now = disk_used_bytes();
        const StatusInput status = status_now(s, options, (disk_now - disk_before) / (1024.0 * 1024 * 1024));
        disk_before = disk_now;  // PyWorker measures growth since the previous attempt, sent or not
        std::string body;
        try {
            body = worker_status_body(worker, status);
        } catch (const std::exception& e) {
            // A string that is not UTF-8 (MASTER_TOKEN, say) cannot be sent; keep the loop alive.
            spdlog::error("cannot build the status report: {}", logging::error_text(e));
            continue;
        }
        if (co_await post_with_failover(addresses, "/worker_status/", body, failures)) {
            status_accepted(s, options, status);
            reported_generation = generation;
            last_accepted = Clock::now();
            failures.succeeded(undelivered, Clock::now());
        } else if (const auto line = failures.failed(undelivered, Clock::now())) {
            if (line->failures == 1) {
                spdlog::error("no autoscaler took the status report; its figures go with the next one taken");
            } else {
                spdlog::error("no autoscaler took the last {} status reports; their figures go with the next one taken",
                              line->failures);
            }
        }
    }
}

asio::awaitable<void> report_deletes(server::ServerState& s, WorkerIdentity worker) {
    std::vector<std::string> addresses;
    for (auto& a : split_report_addrs(s.config.report_addr)) {
        if (!skip_for_deletes(a)) addresses.push_back(std::move(a));
    }
    // An outage can leave a million ids behind; after it they go in posts of a bounded size, one
    // right after the other.
    constexpr std::size_t max_per_post = 10'000;
    uint64_t dropped_seen = 0;
    std::optional<Clock::time_point> dropped_told;
    logging::RepeatedFailure failures(failure_summary_interval);
    bool backlog = false;
    for (;;) {
        if (!backlog) co_await async::sleep_for(1s);
        backlog = false;
        const auto dropped = s.ledger.totals().undelivered_dropped;
        if (dropped != dropped_seen && (!dropped_told || Clock::now() - *dropped_told >= failure_summary_interval)) {
            spdlog::warn("{} finished request id(s) dropped undelivered: more than --max-undelivered {} waited for "
                         "the autoscaler",
                         dropped - dropped_seen, s.config.max_undelivered);
            dropped_seen = dropped;
            dropped_told = Clock::now();
        }
        const auto batch = s.ledger.pending_deletes(max_per_post);
        if (batch.entries.empty()) continue;
        const auto [succeeded, failed] = split_deletes(batch.entries);
        bool delivered = true;
        if (!succeeded.empty()) {
            delivered = co_await post_with_failover(addresses, "/delete_requests/",
                                                    delete_requests_body(worker.id, worker.mtoken, succeeded, true),
                                                    failures);
        }
        if (delivered && !failed.empty()) {
            delivered = co_await post_with_failover(addresses, "/delete_requests/",
                                                    delete_requests_body(worker.id, worker.mtoken, failed, false),
                                                    failures);
        }
        backlog = delivered && batch.entries.size() == max_per_post;
        if (delivered) s.ledger.drop_deletes(batch);
    }
}

namespace {

asio::awaitable<void> send_final_reports(server::ServerState& s, WorkerIdentity worker, ReportOptions options) {
    logging::RepeatedFailure failures(failure_summary_interval);
    const auto addresses = split_report_addrs(s.config.report_addr);
    const StatusInput status = status_now(s, options, 0);
    if (co_await post_with_failover(addresses, "/worker_status/", worker_status_body(worker, status), failures)) {
        status_accepted(s, options, status);
    }
    std::vector<std::string> delete_addresses;
    for (const auto& a : addresses) {
        if (!skip_for_deletes(a)) delete_addresses.push_back(a);
    }
    for (;;) {
        const auto batch = s.ledger.pending_deletes(10'000);
        if (batch.entries.empty()) break;
        const auto [succeeded, failed] = split_deletes(batch.entries);
        bool delivered = true;
        if (!succeeded.empty()) {
            delivered = co_await post_with_failover(
                delete_addresses, "/delete_requests/", delete_requests_body(worker.id, worker.mtoken, succeeded, true), failures);
        }
        if (delivered && !failed.empty()) {
            delivered = co_await post_with_failover(
                delete_addresses, "/delete_requests/", delete_requests_body(worker.id, worker.mtoken, failed, false), failures);
        }
        if (!delivered) break;
        s.ledger.drop_deletes(batch);
    }
}

}  // namespace

void final_reports(server::ServerState& s, const WorkerIdentity& worker, const ReportOptions& options,
                   std::chrono::milliseconds limit) {
    asio::io_context io;
    asio::co_spawn(io, send_final_reports(s, worker, options), [](std::exception_ptr e) {
        if (!e) return;
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& ex) {
            spdlog::error("last reports: {}", logging::error_text(ex));
        }
    });
    io.run_for(limit);
    if (!io.stopped()) spdlog::warn("last reports: not all delivered within {} ms", limit.count());
}

namespace {

asio::awaitable<void> send_startup_error(std::vector<std::string> addresses, std::string body) {
    for (const auto& address : addresses) {
        const auto url = upstream::parse_url(address + "/worker_status/");
        if (!url) continue;
        try {
            const auto r = co_await upstream::http_call(boost::beast::http::verb::post, *url, body, "application/json", 10s);
            spdlog::info("start-up error reported to {} ({})", address, r.status);
        } catch (const std::exception& e) {
            spdlog::warn("start-up error could not be reported to {}: {}", address, logging::error_text(e));
        }
    }
}

}  // namespace

WorkerIdentity identity_of(const config::Config& c) {
    return WorkerIdentity{c.container_id.value_or(0), c.master_token, "1.1.0",
                          worker_url(c.use_ssl, c.public_ip, c.external_port)};
}

void report_startup_error(const config::Config& c, const std::string& message) {
    if (c.report_addr.empty()) return;
    const auto who = identity_of(c);
    asio::io_context io;
    asio::co_spawn(io, send_startup_error(split_report_addrs(c.report_addr),
                                          startup_error_body(who.id, who.mtoken, who.version, message, who.url)),
                   asio::detached);
    io.run();
}

}  // namespace cppworker::autoscaler
