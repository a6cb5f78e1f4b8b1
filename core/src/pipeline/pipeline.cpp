#include "pipeline/pipeline.hpp"

#include "async/wakeup.hpp"
#include "pipeline/admission.hpp"
#include "pipeline/queue.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <spdlog/spdlog.h>

namespace cppworker::pipeline {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

// The client of the worker's own requests: it is always there, and keeps only the status.
class InternalClient final : public ClientPort {
public:
    asio::awaitable<bool> write_whole(http1::Reply& reply, bool) override {
        written_status = reply.status;
        co_return true;
    }
    asio::awaitable<bool> write_stream(const StreamPiece& piece) override {
        if (piece.head) written_status = piece.head->status;
        co_return true;
    }
    asio::awaitable<bool> wait(asio::steady_timer& wake) override {
        co_await wake.async_wait(asio::as_tuple(asio::use_awaitable));
        co_return true;
    }
    std::string_view peer() const override { return "the worker itself"; }
    // Its writes never wait.
    void interrupt_write() override {}
};

}  // namespace

Pipeline::Pipeline(Parts parts, RelaySettings settings)
    : parts_(parts), settings_(settings), router_(parts.plugin.shape().routes), gates_(parts.plugin.shape().routes) {}

asio::awaitable<bool> Pipeline::serve(ClientPort& client, RouteRequest request) {
    // Time in the queue counts toward --request-timeout: it is the client's wait.
    const auto deadline = Clock::now() + settings_.request_timeout;
    RequestScope scope({parts_.registry, &parts_.ledger, &parts_.route_metrics}, request.route_index,
                       client.written_status);
    auto checked = check(scope, request);
    if (auto* reply = std::get_if<http1::Reply>(&checked)) co_return co_await client.write_whole(*reply, false);
    const auto admitted = std::move(std::get<Admitted>(checked));
    scope.start(admitted.call->envelope.who, admitted.workload, admitted.call->envelope.session_id.empty());
    co_return co_await run_admitted(client, scope, admitted.call, deadline);
}

std::variant<Pipeline::Admitted, http1::Reply> Pipeline::check(RequestScope& scope, const RouteRequest& request) {
    const bool require_auth = parts_.authenticator != nullptr;
    auto parsed = parse_envelope(request.body, require_auth);
    if (auto* err = std::get_if<EnvelopeError>(&parsed)) {
        scope.refuse_invalid();
        return http1::json_reply(422, std::move(err->body));
    }
    auto call = std::make_shared<HandleCall>(std::move(std::get<Envelope>(parsed)), request.path, request.query,
                                             request.route_index);
    const auto& envelope = call->envelope;
    const auto& pending = scope.pending();
    call->info.id = pending->id();
    double workload = 0;
    if (auto err = parts_.plugin.workload(call->info, workload)) {
        scope.refuse_invalid();
        return http1::error_reply(422, *err);
    }
    const bool in_session = !envelope.session_id.empty();
    if (in_session && !parts_.sessions.join(envelope.session_id, pending)) {
        scope.refuse_invalid();
        return http1::error_reply(410, "invalid session");
    }

    std::optional<auth::Verdict> signature;
    if (require_auth) signature = parts_.authenticator->check(*envelope.auth_data);
    const auto& route = router_.route(request.route_index);
    const auto refusal = refuse_admission(signature, parts_.ledger.queued_workload(), parts_.readiness.max_perf(),
                                          route.max_queue_time);
    if (refusal) {
        scope.reject(envelope.who, workload, !in_session);
        spdlog::info("request {} ({}): {} -> {}", pending->id(), request.path, refusal->why, refusal->status);
        return http1::empty_reply(refusal->status);
    }
    return Admitted{std::move(call), workload};
}

asio::awaitable<bool> Pipeline::run_admitted(ClientPort& client, RequestScope& scope,
                                             const std::shared_ptr<HandleCall>& call, Clock::time_point deadline) {
    const auto& pending = scope.pending();
    const auto route_index = call->info.route_index;
    const auto loop = co_await asio::this_coro::executor;
    async::Wakeup wake(loop);
    pending->set_notifier(wake.waker());
    if (auto* gate = gates_.gate_for(route_index)) {
        switch (co_await wait_turn(client, *gate, *pending, wake, deadline)) {
        case Turn::came: scope.hold(*gate); break;
        case Turn::client_left:
            spdlog::info("request {} ({}): left the queue; cancelled", pending->id(), call->path);
            co_return false;
        case Turn::timed_out: {
            spdlog::warn("request {} ({}): still queued after {} ms; answering 504", pending->id(), call->path,
                         settings_.request_timeout.count());
            auto reply = http1::error_reply(504, "the request waited in its queue too long");
            scope.finish(accounting::Outcome::error);
            co_return co_await client.write_whole(reply, false);
        }
        }
    }
    // Not awaited: the client is watched while the plugin works. Its timers run on this loop.
    pending->set_loop(loop);
    scope.hand_to_plugin();
    start_handle(parts_.plugin, parts_.blocking, router_.route(route_index).blocking, call, pending);
    AnswerRelay relay(client, scope, wake, deadline, call->path, settings_);
    co_return co_await relay.run();
}

asio::awaitable<readiness::InternalOutcome> Pipeline::run_internal(uint32_t route_index, std::string payload) {
    InternalClient client;
    RequestScope scope({parts_.registry, nullptr, nullptr}, route_index, client.written_status);
    Envelope envelope;
    envelope.payload = std::move(payload);
    auto call = std::make_shared<HandleCall>(std::move(envelope), router_.route(route_index).path, "", route_index);
    call->info.id = scope.pending()->id();
    readiness::InternalOutcome outcome;
    if (auto err = parts_.plugin.workload(call->info, outcome.workload)) {
        spdlog::warn("benchmark request refused by the workload hook: {}", *err);
        co_return readiness::InternalOutcome{};
    }
    scope.start(std::nullopt, outcome.workload, false);
    const bool whole = co_await run_admitted(client, scope, call, Clock::now() + settings_.request_timeout);
    outcome.status = whole ? client.written_status : 0;
    co_return outcome;
}

}  // namespace cppworker::pipeline
