#include "server/plugin_call.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <spdlog/spdlog.h>

namespace cppworker::server {
namespace asio = boost::asio;

namespace {

void call_handle(ServerState& s, const HandleCall& call, requests::PendingRequest& pending) {
    cppw_request_info info = call.info;
    info.request_state = pending.take_state();
    // Armed before the call: a blocking route's handle may do all its work inside it.
    if (s.plugin.has_cancel_hook()) {
        pending.on_give_up([&plugin = s.plugin, id = pending.id()] { plugin.give_up(id); });
    }
    if (auto refused = s.plugin.handle(info)) {
        spdlog::warn("request {} ({}): the plugin refused it: {}", pending.id(), call.path, *refused);
        s.registry.forget(pending.id());
        pending.refuse(std::move(*refused));
    }
}

}  // namespace

void start_handle(ServerState& s, const std::shared_ptr<HandleCall>& call,
                  const std::shared_ptr<requests::PendingRequest>& pending) {
    if (s.router.route(call->info.route_index).blocking) {
        s.blocking_calls.begin();
        asio::post(s.blocking_pool, [&s, call, pending] {
            struct Ended {
                async::CallCount& calls;
                ~Ended() { calls.end(); }
            } ended{s.blocking_calls};
            call_handle(s, *call, *pending);
        });
    } else {
        call_handle(s, *call, *pending);
    }
}

asio::awaitable<InternalOutcome> run_internal_request(ServerState& s, uint32_t route_index, std::string payload) {
    Envelope envelope;
    envelope.payload = std::move(payload);
    const auto& route = s.router.route(route_index);
    auto call = std::make_shared<HandleCall>(std::move(envelope), route.path, "", route_index);
    const auto pending = s.registry.create();
    call->info.id = pending->id();

    InternalOutcome outcome;
    if (auto err = s.plugin.workload(call->info, outcome.workload)) {
        s.registry.release_state_of(*pending);
        s.registry.forget(pending->id());
        spdlog::warn("benchmark request refused by the workload hook: {}", *err);
        co_return InternalOutcome{};
    }
    const auto executor = co_await asio::this_coro::executor;
    auto wake = std::make_shared<asio::steady_timer>(executor);
    pending->set_notifier([weak = std::weak_ptr(wake), executor] {
        asio::post(executor, [weak] {
            if (auto timer = weak.lock()) timer->cancel();
        });
    });
    start_handle(s, call, pending);

    const auto deadline = std::chrono::steady_clock::now() + s.config.request_timeout;
    for (;;) {
        auto events = pending->take_events();
        for (auto& e : events) {
            switch (e.kind) {
            case requests::Event::Kind::respond: outcome.status = e.answer.status; co_return outcome;
            case requests::Event::Kind::refused: co_return InternalOutcome{0, outcome.workload};
            case requests::Event::Kind::stream_begin: outcome.status = e.answer.status; break;
            case requests::Event::Kind::stream_data: pending->sent(e.data.size()); break;
            case requests::Event::Kind::stream_end:
                if (e.end_status != CPPW_OK) outcome.status = 0;
                co_return outcome;
            }
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            pending->cancel();
            co_return InternalOutcome{0, outcome.workload};
        }
        if (pending->has_events()) continue;
        wake->expires_at(deadline);
        co_await wake->async_wait(asio::as_tuple(asio::use_awaitable));
    }
}

}  // namespace cppworker::server
