#include "app/worker.hpp"

#include "autoscaler/pubkey_fetch.hpp"
#include "http/tls_context.hpp"
#include "metrics/prometheus.hpp"
#include "readiness/readiness_driver.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>

#include <spdlog/spdlog.h>

#include <fstream>
#include <iterator>
#include <stdexcept>

namespace cppworker::app {
namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

std::vector<std::string> route_labels(const std::vector<plugin::RouteSpec>& routes) {
    std::vector<std::string> labels;
    for (const auto& r : routes) labels.push_back(std::string(plugin::method_name(r.method)) + " " + r.path);
    return labels;
}

auth::Scheme scheme_of(const std::string& name) {
    return name == "url" ? auth::Scheme::url : name == "fields" ? auth::Scheme::fields : auth::Scheme::any;
}

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot read " + path.string());
    return std::string(std::istreambuf_iterator<char>(in), {});
}

// USE_SSL: every connection speaks TLS with this.
std::optional<asio::ssl::context> tls_of(const config::Config& c) {
    if (!c.use_ssl) return std::nullopt;
    return http::make_tls_context(c.tls_cert, c.tls_key);
}

// Signatures are checked unless UNSECURED, or standalone with no key to check them with.
bool signatures_checked(const config::Config& c) { return !c.unsecured && (!c.report_addr.empty() || c.pubkey_file); }

}  // namespace

Worker::Worker(const config::Config& c, plugin::LoadedPlugin& plugin, requests::RequestRegistry& registry,
               std::chrono::steady_clock::time_point started)
    : config_(c), plugin_(plugin), registry_(registry),
      // Delete entries are kept only for an autoscaler to take them.
      ledger_(c.report_addr.empty() ? 0 : c.max_undelivered), authenticator_(scheme_of(c.auth_scheme)),
      readiness_(started), route_metrics_(route_labels(plugin.shape().routes)), sessions_(c.max_sessions),
      tracker_(c.max_connections), loops_(c.io_threads), blocking_(c.blocking_threads),
      forwarder_(loops_, upstream::ForwarderSettings{c.model_server_url, c.upstream_connect_timeout, c.upstream_timeout}),
      timers_(plugin.shape().name),
      tls_(tls_of(c)),
      pipeline_({plugin, registry, ledger_, route_metrics_, sessions_,
                 signatures_checked(c) ? &authenticator_ : nullptr, readiness_, blocking_},
                pipeline::RelaySettings{c.request_timeout, c.stream_idle_timeout, c.stream_high_water}),
      session_endpoints_({sessions_, ledger_, signatures_checked(c) ? &authenticator_ : nullptr}, c.model_server_url,
                         loops_.primary().get_executor()),
      builtins_({[this] { return readiness_.ready() && plugin_.ready(); }, [this] { return metrics_text(); }},
                session_endpoints_, {c.master_token, c.force_update_file}),
      connection_parts_{{c.max_body_bytes, c.max_header_bytes, c.read_timeout}, tracker_, builtins_, pipeline_},
      listener_(loops_.primary().get_executor(), loops_, connection_parts_, tls_ ? &*tls_ : nullptr),
      control_(loops_.primary().get_executor()), signals_(control_), drain_timer_(control_) {
    if (c.pubkey_file) authenticator_.set_key(auth::SignatureVerifier::from_pem(read_file(*c.pubkey_file)));
}

Worker::~Worker() = default;

uint16_t Worker::listen() { return listener_.listen(config_.listen_address, config_.port); }

uint16_t Worker::adopt(int listening_fd) { return listener_.adopt(listening_fd); }

std::string Worker::metrics_text() {
    const metrics::WorkerGauges gauges{.queued_requests = pipeline_.queued(),
                                       .open_sessions = sessions_.size(),
                                       .max_perf = readiness_.max_perf(),
                                       .queued_workload = ledger_.queued_workload(),
                                       .registered_requests = registry_.size(),
                                       .open_connections = tracker_.open_count(),
                                       .refused_connections = tracker_.refused(),
                                       .pending_timers = timers_.pending()};
    return metrics::format_worker_metrics(ledger_.totals(), ledger_.snapshot(), gauges) + route_metrics_.format() +
           metrics::format_upstream_metrics(forwarder_.stats()) + metrics::format_plugin_metrics(plugin_.metrics());
}

autoscaler::BackendState Worker::backend_state() const {
    const auto v = readiness_.view();
    return autoscaler::BackendState{v.loaded, v.loadtime, v.max_perf, v.error_msg};
}

bool Worker::run(std::optional<autoscaler::WorkerIdentity> identity, supervisor::ChildLink* link) {
    identity_ = std::move(identity);
    watch_signals();
    start_background(link);
    plugin_.set_cancel_poster([&loops = loops_](std::function<void()> deliver) {
        asio::post(loops.at(loops.here_or_next()), std::move(deliver));
    });
    loops_.run();
    plugin_.set_cancel_poster(nullptr);
    return finish(link);
}

void Worker::start_background(supervisor::ChildLink* link) {
    if (!link || !link->reload()) listener_.start();
    asio::co_spawn(control_, session_endpoints_.expire_sessions(), asio::detached);
    const bool checked = signatures_checked(config_);
    if (checked && !authenticator_.has_key()) {
        // PyWorker fetches from the whole REPORT_ADDR string, which fails for a list; the first
        // address is what it means.
        const auto addresses = autoscaler::split_report_addrs(config_.report_addr);
        asio::co_spawn(control_, autoscaler::fetch_pubkey(addresses.empty() ? "" : addresses.front(), authenticator_),
                       asio::detached);
    }
    readiness::ReadinessParts parts{
        plugin_, readiness_,
        [this](uint32_t route, std::string payload) { return pipeline_.run_internal(route, std::move(payload)); },
        checked ? std::function<bool()>([this] { return authenticator_.has_key(); }) : nullptr};
    readiness::ReadinessSettings settings{config_.model_log, config_.benchmark_cache, config_.model_server_url,
                                          config_.model_health_path};
    asio::co_spawn(control_, readiness::drive_readiness(std::move(parts), std::move(settings)), asio::detached);
    if (link) {
        start_supervised(*link);
    } else if (identity_) {
        start_reporting({});
    }
}

void Worker::start_reporting(autoscaler::ReportOptions options) {
    reporter_.emplace(ledger_, [this] { return backend_state(); }, *identity_, config_.report_addr,
                      config_.max_undelivered, std::move(options));
    asio::co_spawn(control_, reporter_->report_status(), asio::detached);
    asio::co_spawn(control_, reporter_->report_deletes(), asio::detached);
}

bool Worker::finish(supervisor::ChildLink* link) {
    if (link) link->drop_callbacks();
    // Requests still open are abandoned: the plugin's later calls for them become no-ops, and its
    // forwards end now, while it is still there to hear it; so do its cancel hooks, and its
    // timers call back as cancelled.
    forwarder_.abandon_all();
    registry_.cancel_all();
    plugin_.deliver_cancels();
    timers_.abandon_all();
    // A blocking route's handle may still run, for a request given up just now: it has heard the
    // cancel, and is given as long again as the drain to return.
    const bool plugin_idle = blocking_.wait_idle(config_.drain_timeout);
    if (!plugin_idle) {
        spdlog::error("{} handle call(s) of the plugin still running {:.1f} s after the drain", blocking_.running(),
                      std::chrono::duration<double>(config_.drain_timeout).count());
    }
    if (link) {
        finish_supervised(*link);
    } else if (reporter_) {
        reporter_->final_reports(10s);
    }
    return plugin_idle;
}

}  // namespace cppworker::app
