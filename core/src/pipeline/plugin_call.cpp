#include "pipeline/plugin_call.hpp"

#include <spdlog/spdlog.h>

namespace cppworker::pipeline {
namespace {

void call_handle(plugin::LoadedPlugin& plugin, const HandleCall& call, requests::PendingRequest& pending) {
    // Given up while it waited for a pool thread: its scope lets it go and releases what it holds.
    if (!pending.begin_handle()) {
        spdlog::info("request {} ({}): given up before the plugin's handle began; handle not called", pending.id(),
                     call.path);
        return;
    }
    cppw_request_info info = call.info;
    info.request_state = pending.take_state();
    // Armed before the call: a blocking route's handle may do all its work inside it.
    if (plugin.has_cancel_hook()) {
        pending.on_give_up([&plugin, id = pending.id()] { plugin.give_up(id); });
    }
    if (auto refused = plugin.handle(info)) {
        // Not accepted means nothing once the plugin has answered (or handed the answer to the
        // host): the request stays as it was completed.
        if (pending.completed() || !pending.plugin_may_answer()) {
            spdlog::warn("request {} ({}): handle answered the request, then returned an error ({}); the answer "
                         "stands (handle must return CPPW_OK once it completed the request, whatever respond returned)",
                         pending.id(), call.path, *refused);
            return;
        }
        spdlog::warn("request {} ({}): the plugin refused it: {}", pending.id(), call.path, *refused);
        pending.refuse(std::move(*refused));
    }
}

}  // namespace

void start_handle(plugin::LoadedPlugin& plugin, async::BlockingPool& blocking, bool blocking_route,
                  const std::shared_ptr<HandleCall>& call, const std::shared_ptr<requests::PendingRequest>& pending) {
    if (blocking_route) {
        blocking.post([&plugin, call, pending] { call_handle(plugin, *call, *pending); });
    } else {
        call_handle(plugin, *call, *pending);
    }
}

}  // namespace cppworker::pipeline
