#include "app/engine.hpp"

#include "history/sampling.hpp"
#include "provider/launch_spec.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <csignal>
#include <set>

namespace cppworker::engine {
namespace asio = boost::asio;

double epoch_now() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

namespace {

std::string action_text(const Action& a) {
    switch (a.kind) {
    case Action::Kind::create: return "create a worker";
    case Action::Kind::start: return "start worker " + std::to_string(a.worker);
    case Action::Kind::stop: return "stop worker " + std::to_string(a.worker);
    case Action::Kind::destroy: return "destroy worker " + std::to_string(a.worker);
    }
    return "?";
}

}  // namespace

Engine::Engine(EngineConfig config, std::unique_ptr<Provider> provider)
    : config_(std::move(config)), key_(auth::SigningKey::load_or_create(config_.run_dir / "signing-key.pem")),
      fleet_(longest_window(config_.tuning)), provider_(std::move(provider)),
      history_(HistoryLimits::for_tick(config_.tick_seconds)),
      api_({fleet_, key_, config_, history_, epoch_now,
            [this](const auto& ids) { retire_workers(ids, "deleted through the web API"); },
            [this](const auto& ids) { reload_workers(ids); }}),
      server_(io_, [this](const ApiRequest& r) { return api_.handle(r); }, HttpServerLimits{}), ticker_(io_),
      drain_timer_(io_), signals_(io_, SIGTERM, SIGINT) {}

Engine::~Engine() = default;

uint16_t Engine::listen() {
    port_ = server_.listen(config_.listen_address, config_.port);
    return port_;
}

void Engine::create_configured_endpoints() {
    for (const auto& fields : config_.endpoints) {
        auto created = api_.create_endpoint(fields);
        if (auto* error = std::get_if<std::string>(&created)) {
            throw std::invalid_argument("the config file's endpoint: " + *error);
        }
    }
}

void Engine::run() {
    signals_.async_wait([this](boost::system::error_code ec, int signal) {
        if (!ec) shutdown(signal);
    });
    tick();
    io_.run();
}

void Engine::shutdown(int signal) {
    spdlog::info("signal {}: stopping every worker (at most {} ms to drain), then the engine", signal,
                 config_.stop_grace.count());
    stopping_ = true;
    ticker_.cancel();
    const double now = epoch_now();
    for (auto& [id, w] : fleet_.workers()) {
        if (!provider_->running(id)) continue;
        provider_->stop(id);
        w.state = WorkerState::stopping;
        w.state_since = now;
    }
    stop_deadline_ = std::chrono::steady_clock::now() + config_.stop_grace;
    await_workers();
}

// The API goes on serving while the workers drain, so that their last status reports and
// delete_requests reach it; then whatever still runs is killed and the engine ends.
void Engine::await_workers() {
    for (const auto& [id, how] : provider_->reap()) spdlog::info("worker {} stopped ({})", id, how);
    if (provider_->any_running() && std::chrono::steady_clock::now() < stop_deadline_) {
        drain_timer_.expires_after(std::chrono::milliseconds(100));
        drain_timer_.async_wait([this](boost::system::error_code ec) {
            if (!ec) await_workers();
        });
        return;
    }
    provider_->stop_all(std::chrono::milliseconds(0));
    server_.stop();
    io_.stop();
}

void Engine::tick() {
    if (stopping_) return;
    const double now = epoch_now();
    reap_processes(now);
    for (auto& [id, w] : fleet_.workers()) {
        const auto before = w.state;
        if (check_time(w, config_.lifetimes, now)) {
            spdlog::warn("worker {}: {} -> {}: {}", id, state_name(before), state_name(w.state), w.error);
        }
    }
    std::map<int64_t, std::vector<GroupSample>> decisions;  // by endpoint
    for (const auto& [id, g] : fleet_.groups()) {
        if (auto decided = scale_group(g, now)) decisions[g.endpoint_id].push_back(std::move(*decided));
    }
    record_samples(std::move(decisions), now);
    ticker_.expires_after(std::chrono::milliseconds(static_cast<long long>(config_.tick_seconds * 1000)));
    ticker_.async_wait([this](boost::system::error_code ec) {
        if (!ec) tick();
    });
}

// A process that ended after its stop is a stopped worker; any other ended unasked.
void Engine::reap_processes(double now) {
    for (const auto& [id, how] : provider_->reap()) {
        auto* w = fleet_.worker(id);
        if (w == nullptr) continue;  // destroyed: only its folder was waited for
        if (w->state == WorkerState::stopping) {
            spdlog::info("worker {} stopped ({})", id, how);
            w->state = WorkerState::stopped;
        } else {
            spdlog::warn("worker {} ended unasked: {}", id, how);
            w->state = WorkerState::errored;
            w->error = "its process " + how;
        }
        w->state_since = now;
    }
}

double Engine::worker_perf(const Workergroup& g, const Template& t) {
    std::vector<double> known;
    for (const auto* w : fleet_.workers_of_group(g.id)) {
        if (w->last && w->last->max_perf > 0) known.push_back(w->last->max_perf);
    }
    return planned_perf(std::move(known), t.expected_perf);
}

// The sample of each endpoint after this tick's decisions; the offered and served loads over the
// policy's panic window, the shortest it looks at.
void Engine::record_samples(std::map<int64_t, std::vector<GroupSample>> decisions, double now) {
    std::set<int64_t> endpoints;
    for (const auto& [id, entry] : fleet_.endpoints()) {
        const auto of_endpoint = fleet_.workers_of_endpoint(id);
        const std::vector<const Worker*> workers(of_endpoint.begin(), of_endpoint.end());
        history_.add(sample_endpoint(entry, workers, std::move(decisions[id]), config_.tuning.panic_window, now));
        endpoints.insert(id);
    }
    history_.keep_only(endpoints);
}

std::optional<GroupSample> Engine::scale_group(const Workergroup& g, double now) {
    auto* entry = fleet_.endpoint(g.endpoint_id);
    const auto template_it = config_.templates.find(g.template_name);
    if (entry == nullptr || template_it == config_.templates.end()) return std::nullopt;
    entry->queue.expire(now);
    int groups = 0;
    for (const auto& [gid, other] : fleet_.groups()) groups += other.endpoint_id == g.endpoint_id ? 1 : 0;
    GroupView view;
    view.params = group_params(entry->endpoint, g);
    view.demand_stable = entry->meter.rate(config_.tuning.stable_window, now) / groups;
    view.demand_panic = entry->meter.rate(config_.tuning.panic_window, now) / groups;
    view.waiting_cost = entry->queue.total_cost() / groups;
    const double last = entry->meter.last_arrival();
    view.idle_for = now - (last > 0 ? last : entry->endpoint.created_at);
    view.worker_perf = worker_perf(g, template_it->second);
    for (const auto* w : fleet_.workers_of_group(g.id)) {
        view.workers.push_back({w->id, w->state, w->last ? w->last->cur_load : 0, w->has_model, w->state_since});
    }
    const auto decision = decide(view, config_.tuning, memory_[g.id], now);
    GroupSample decided{g.id, decision.anticipated_load, decision.active_wanted, decision.total_wanted, decision.why};
    if (decision.actions.empty()) return decided;
    std::string what;
    for (const auto& a : decision.actions) what += (what.empty() ? "" : ", ") + action_text(a);
    spdlog::info("endpoint {} group {}: {:.4g}/s anticipated: {} serving, {} loaded wanted ({}): {}",
                 entry->endpoint.name, g.id, decision.anticipated_load, decision.active_wanted,
                 decision.total_wanted, decision.why, what);
    for (const auto& a : decision.actions) carry_out(g, a, decision.why, now);
    return decided;
}

// Carries out one of the policy's actions, and records it (with its failure, if it failed).
void Engine::carry_out(const Workergroup& g, const Action& a, const std::string& why, double now) {
    ActionRecord record{0, now, g.endpoint_id, g.id, a.kind, a.worker, why, {}};
    try {
        switch (a.kind) {
        case Action::Kind::create: record.worker = create_worker(g, now); break;
        case Action::Kind::start: {
            auto* w = fleet_.worker(a.worker);
            if (w != nullptr) start_worker(*w, config_.templates.at(g.template_name), now);
            break;
        }
        case Action::Kind::stop: {
            auto* w = fleet_.worker(a.worker);
            if (w == nullptr) break;
            provider_->stop(w->id);
            w->state = WorkerState::stopping;
            w->state_since = now;
            break;
        }
        case Action::Kind::destroy: destroy_workers({a.worker}); break;
        }
    } catch (const std::exception& e) {
        spdlog::error("endpoint group {}: {} failed: {}", g.id, action_text(a), e.what());
        record.error = e.what();
    }
    history_.add(std::move(record));
}

int64_t Engine::create_worker(const Workergroup& g, double now) {
    auto& w = fleet_.add_worker(g.id, now);
    start_worker(w, config_.templates.at(g.template_name), now);
    return w.id;
}

void Engine::start_worker(Worker& w, const Template& t, double now) {
    LaunchContext context;
    context.bin_dir = config_.bin_dir;
    context.config_dir = config_.config_file.empty() ? std::filesystem::current_path()
                                                     : std::filesystem::absolute(config_.config_file).parent_path();
    context.folder = config_.run_dir / "workers" / std::to_string(w.id);
    context.port = free_port();
    for (const auto& name : t.ports) context.ports[name] = free_port();
    context.report_addr = "http://127.0.0.1:" + std::to_string(port_);
    w.state = WorkerState::loading;
    w.state_since = now;
    w.started_at = now;
    w.error.clear();
    provider_->start(resolve_launch(t, w, context));
    spdlog::info("worker {} ({} of group {}) started on port {}; its log: {}", w.id, t.name, w.workergroup_id,
                 context.port, (context.folder / "worker.log").string());
}

void Engine::destroy_workers(const std::vector<int64_t>& ids) {
    for (const auto id : ids) {
        provider_->destroy(id, config_.stop_grace);
        if (auto* w = fleet_.worker(id)) {
            if (auto* entry = fleet_.endpoint(w->endpoint_id)) {
                std::erase_if(entry->assigned, [id](const auto& a) { return a.second == id; });
            }
        }
        fleet_.remove_worker(id);
        spdlog::info("worker {} destroyed", id);
    }
}

void Engine::retire_workers(const std::vector<int64_t>& ids, const std::string& why) {
    const double now = epoch_now();
    for (const auto id : ids) {
        if (const auto* w = fleet_.worker(id)) {
            history_.add(ActionRecord{0, now, w->endpoint_id, w->workergroup_id, Action::Kind::destroy, id, why, {}});
        }
    }
    destroy_workers(ids);
}

void Engine::reload_workers(const std::vector<int64_t>& ids) {
    for (const auto id : ids) provider_->reload(id);
    spdlog::info("rolling update: {} worker(s) reload their plugin", ids.size());
}

}  // namespace cppworker::engine
