#include "app/worker.hpp"

#include <boost/asio/post.hpp>

#include <spdlog/spdlog.h>

#include <csignal>

namespace cppworker::app {
namespace asio = boost::asio;

void Worker::watch_signals() {
    signals_.add(SIGTERM);
    signals_.add(SIGINT);
    signals_.async_wait([this](boost::system::error_code ec, int signal) {
        if (!ec) begin_shutdown(signal);
    });
}

// No new connections; idle ones close, busy ones end with the answer they are busy with, and the
// loops stop once none is left, or at the drain deadline.
void Worker::begin_shutdown(int signal) {
    if (stopping_.exchange(true)) return;
    listener_.stop();
    const auto open = tracker_.begin_drain([this] { asio::post(control_, [this] { stop_after_reports(); }); });
    if (!open) return;
    spdlog::info("signal {}: no longer accepting; draining {} open connection(s), at most {} ms", signal, *open,
                 config_.drain_timeout.count());
    // Checked after what is queued on this thread already: an accept that completed before the
    // listener stopped still has its handler to run, and that connection is served too.
    asio::post(control_, [this] { tracker_.check_drained(); });
    drain_timer_.expires_after(config_.drain_timeout);
    drain_timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec) drain_deadline();
    });
}

// The connections are all closed: the loops stop, once a report under way has its answer, so
// that the last reports neither miss nor repeat its figures; a few seconds at most.
void Worker::stop_after_reports() {
    if (!reporter_) return loops_.stop();
    // Also ends the wait for the drain deadline.
    drain_timer_.expires_after(std::chrono::seconds(3));
    drain_timer_.async_wait([this](boost::system::error_code ec) {
        if (ec) return;
        spdlog::warn("a report to the autoscaler still under way 3 s after the drain; stopping regardless");
        loops_.stop();
    });
    reporter_->stop_after_posts([this] { loops_.stop(); });
}

// Every request still open ends as cancelled now, on its own loop: the plugin hears its cancel,
// the ledger records it, and so the last reports, which go out after the loops, count it. The
// loops stop once the connections have closed, or a moment later whatever is left.
void Worker::drain_deadline() {
    spdlog::warn("drain timeout: cancelling {} request(s) still open and closing {} connection(s)", registry_.size(),
                 tracker_.open_count());
    registry_.cancel_all();
    tracker_.cancel_all();
    drain_timer_.expires_after(std::chrono::seconds(2));
    drain_timer_.async_wait([this](boost::system::error_code ec) {
        if (ec) return;
        spdlog::error("{} connection(s) still open 2 s after the drain deadline; stopping regardless",
                      tracker_.open_count());
        loops_.stop();
    });
}

}  // namespace cppworker::app
