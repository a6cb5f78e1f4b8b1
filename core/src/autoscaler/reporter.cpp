#include "autoscaler/reporter.hpp"

#include "async/sleep.hpp"
#include "autoscaler/post.hpp"
#include "logging/error_text.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <spdlog/spdlog.h>

#include <sys/statvfs.h>

#include <optional>

namespace cppworker::autoscaler {
namespace asio = boost::asio;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

// An outage can leave a million ids behind; after it they go in posts of a bounded size, one
// right after the other.
constexpr std::size_t max_ids_per_post = 10'000;

std::vector<std::string> without_skipped(std::vector<std::string> addresses) {
    std::erase_if(addresses, [](const std::string& a) { return skip_for_deletes(a); });
    return addresses;
}

}  // namespace

double disk_used_bytes() {
    struct statvfs st {};
    if (::statvfs("/", &st) != 0) return 0;
    return static_cast<double>(st.f_blocks - st.f_bfree) * static_cast<double>(st.f_frsize);
}

Reporter::Reporter(accounting::RequestLedger& ledger, std::function<BackendState()> backend, WorkerIdentity worker,
                   const std::string& report_addr, std::size_t max_undelivered, ReportOptions options)
    : ledger_(ledger), backend_(std::move(backend)), worker_(std::move(worker)),
      addresses_(split_report_addrs(report_addr)), delete_addresses_(without_skipped(addresses_)),
      max_undelivered_(max_undelivered), options_(std::move(options)) {}

StatusInput Reporter::status_now(double additional_disk_usage) const {
    const auto backend = backend_();
    return StatusInput{backend.loadtime,
                       status_error_msg(backend.error_msg, backend.loaded, options_.previous_crash,
                                        *options_.crash_reported),
                       backend.max_perf, additional_disk_usage, ledger_.snapshot()};
}

void Reporter::status_accepted(const StatusInput& status) const {
    ledger_.consume_interval(status.ledger);
    if (!options_.previous_crash.empty() && status.error_msg == options_.previous_crash) *options_.crash_reported = true;
    if (options_.accepted) options_.accepted(status.ledger);
}

void Reporter::stop_after_posts(std::function<void()> stopped) {
    stopping_ = true;
    if (posting_ == 0) return stopped();
    stopped_ = std::move(stopped);
}

void Reporter::post_ended() {
    --posting_;
    if (stopping_ && posting_ == 0 && stopped_) std::exchange(stopped_, nullptr)();
}

asio::awaitable<void> Reporter::report_status() {
    static const std::string undelivered = "status report undelivered";
    std::optional<Clock::time_point> last_accepted;
    uint64_t reported_generation = ledger_.generation();
    double disk_before = disk_used_bytes();
    for (;;) {
        co_await async::sleep_for(1s);
        if (stopping_) co_return;
        const auto backend = backend_();
        const auto generation = ledger_.generation();
        const double elapsed = last_accepted ? std::chrono::duration<double>(Clock::now() - *last_accepted).count() : 1e9;
        const bool settled = backend.loaded || !backend.error_msg.empty();
        const bool due = generation != reported_generation || elapsed > 10 || (!settled && elapsed >= 10);
        if (!due) continue;

        const double disk_now = disk_used_bytes();
        const StatusInput status = status_now((disk_now - disk_before) / (1024.0 * 1024 * 1024));
        disk_before = disk_now;  // PyWorker measures growth since the previous attempt, sent or not
        std::string body;
        try {
            body = worker_status_body(worker_, status);
        } catch (const std::exception& e) {
            // A string that is not UTF-8 (MASTER_TOKEN, say) cannot be sent; keep the loop alive.
            spdlog::error("cannot build the status report: {}", logging::error_text(e));
            continue;
        }
        ++posting_;
        const bool accepted = co_await post_with_failover(failover_, addresses_, "/worker_status/", body);
        if (accepted) status_accepted(status);
        post_ended();
        if (accepted) {
            reported_generation = generation;
            last_accepted = Clock::now();
            failover_.failures.succeeded(undelivered, Clock::now());
        } else if (const auto line = failover_.failures.failed(undelivered, Clock::now())) {
            if (line->failures == 1) {
                spdlog::error("no autoscaler took the status report; its figures go with the next one taken");
            } else {
                spdlog::error("no autoscaler took the last {} status reports; their figures go with the next one taken",
                              line->failures);
            }
        }
    }
}

asio::awaitable<bool> Reporter::post_deletes(const std::vector<accounting::DeleteEntry>& entries) {
    const auto [succeeded, failed] = split_deletes(entries);
    for (const auto* ids : {&succeeded, &failed}) {
        if (ids->empty()) continue;
        const auto body = delete_requests_body(worker_.id, worker_.mtoken, *ids, ids == &succeeded);
        if (!co_await post_with_failover(failover_, delete_addresses_, "/delete_requests/", body)) co_return false;
    }
    co_return true;
}

asio::awaitable<void> Reporter::report_deletes() {
    uint64_t dropped_seen = 0;
    std::optional<Clock::time_point> dropped_told;
    bool backlog = false;
    for (;;) {
        if (!backlog) co_await async::sleep_for(1s);
        if (stopping_) co_return;
        backlog = false;
        const auto dropped = ledger_.totals().undelivered_dropped;
        if (dropped != dropped_seen && (!dropped_told || Clock::now() - *dropped_told >= 60s)) {
            spdlog::warn("{} finished request id(s) dropped undelivered: more than --max-undelivered {} waited for "
                         "the autoscaler",
                         dropped - dropped_seen, max_undelivered_);
            dropped_seen = dropped;
            dropped_told = Clock::now();
        }
        const auto batch = ledger_.pending_deletes(max_ids_per_post);
        if (batch.entries.empty()) continue;
        ++posting_;
        const bool delivered = co_await post_deletes(batch.entries);
        if (delivered) ledger_.drop_deletes(batch);
        post_ended();
        backlog = delivered && batch.entries.size() == max_ids_per_post;
    }
}

asio::awaitable<void> Reporter::send_final_reports() {
    const StatusInput status = status_now(0);
    if (co_await post_with_failover(failover_, addresses_, "/worker_status/", worker_status_body(worker_, status))) {
        status_accepted(status);
    }
    for (;;) {
        const auto batch = ledger_.pending_deletes(max_ids_per_post);
        if (batch.entries.empty()) break;
        if (!co_await post_deletes(batch.entries)) break;
        ledger_.drop_deletes(batch);
    }
}

void Reporter::final_reports(std::chrono::milliseconds limit) {
    asio::io_context io;
    asio::co_spawn(io, send_final_reports(), [](std::exception_ptr e) {
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

}  // namespace cppworker::autoscaler
