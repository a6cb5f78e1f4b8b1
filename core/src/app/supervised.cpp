// What a worker started by the master (--supervise, core/src/supervisor) does besides serving.
#include "app/worker.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <spdlog/spdlog.h>

namespace cppworker::app {
namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

supervisor::Counters leftover(const accounting::LedgerSnapshot& l) {
    return {l.num_received_ever, l.received, l.served, l.cancelled, l.errored, l.rejected};
}

}  // namespace

autoscaler::ReportOptions Worker::supervised_options(supervisor::ChildLink& link) {
    autoscaler::ReportOptions options;
    options.previous_crash = link.previous_crash();
    options.accepted = [&link](const accounting::LedgerSnapshot& reported) {
        link.send({supervisor::Message::Kind::counted, {reported.num_received_ever, 0, 0, 0, 0, 0}});
    };
    return options;
}

void Worker::start_supervised(supervisor::ChildLink& link) {
    // Reporting waits for the master's token, which arrives on the link's thread; the ledger and
    // the reports belong to the loops.
    link.start(
        [this, &link] {
            asio::post(control_, [this, &link] {
                if (stopping_) return;  // the end of run() hands the figures on
                take_carry(link);
                if (identity_) start_reporting(supervised_options(link));
            });
        },
        [this] {
            asio::post(control_, [this] {
                spdlog::warn("supervisor: the master is gone; stopping");
                begin_shutdown(0);
            });
        });
    if (link.reload()) {
        asio::co_spawn(control_, accept_when_loaded(link), asio::detached);
    } else {
        link.send({supervisor::Message::Kind::ready, {}});
    }
}

void Worker::take_carry(supervisor::ChildLink& link) {
    if (const auto c = link.take_carry()) {
        accounting::LedgerSnapshot unreported;
        unreported.received = c->received;
        unreported.served = c->served;
        unreported.cancelled = c->cancelled;
        unreported.errored = c->errored;
        unreported.rejected = c->rejected;
        ledger_.carry_over(c->received_ever, unreported);
    }
}

// A reload's worker takes traffic only once its plugin is loaded, so that clients never wait on a
// model that the running worker serves already. One that fails to load stops; the running one
// stays.
asio::awaitable<void> Worker::accept_when_loaded(supervisor::ChildLink& link) {
    asio::steady_timer timer(control_);
    for (;;) {
        const auto view = readiness_.view();
        if (!view.error_msg.empty()) {
            spdlog::error("reload: the new worker has an error ({}); it stops, the running one keeps serving",
                          view.error_msg);
            begin_shutdown(0);
            co_return;
        }
        if (view.loaded) break;
        if (stopping_) co_return;
        timer.expires_after(20ms);
        co_await timer.async_wait(asio::use_awaitable);
    }
    spdlog::info("reload: plugin loaded; accepting connections");
    listener_.start();
    link.send({supervisor::Message::Kind::ready, {}});
}

// The autoscaler hears from one worker at a time: one that served requests waits for its turn
// (the worker before it is still draining) before it sends its last reports.
void Worker::finish_supervised(supervisor::ChildLink& link) {
    if (!link.has_token() && ledger_.generation() > 0 && identity_) {
        spdlog::info("waiting for the reporting token to send the last reports");
        link.wait_for_token(config_.drain_timeout + 60s);
    }
    if (!link.has_token()) return;
    take_carry(link);
    if (identity_) {
        if (!reporter_) {
            reporter_.emplace(ledger_, [this] { return backend_state(); }, *identity_, config_.report_addr,
                              config_.max_undelivered, supervised_options(link));
        }
        reporter_->final_reports(10s);
    }
    link.send({supervisor::Message::Kind::final_counters, leftover(ledger_.snapshot())});
}

}  // namespace cppworker::app
