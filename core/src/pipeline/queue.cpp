#include "pipeline/queue.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <memory>

namespace cppworker::pipeline {

boost::asio::awaitable<Turn> wait_turn(ClientPort& client, accounting::ConcurrencyGate& gate,
                                       requests::PendingRequest& pending, async::Wakeup& wake,
                                       std::chrono::steady_clock::time_point deadline) {
    // Set on the thread of the exit() that hands the slot over.
    auto turn = std::make_shared<std::atomic<bool>>(false);
    if (gate.enter(pending.id(), [turn, waker = wake.waker()] {
            turn->store(true);
            waker();
        })) {
        co_return Turn::came;
    }
    spdlog::debug("request {}: queued behind {} running", pending.id(), gate.running());
    while (!turn->load()) {
        wake.timer().expires_at(deadline);
        const bool client_here = co_await client.wait(wake.timer());
        const auto step = queue_step(turn->load(), !client_here || pending.cancelled(),
                                     std::chrono::steady_clock::now() >= deadline);
        if (step == QueueStep::keep_waiting) continue;
        if (step == QueueStep::turn_came) break;
        // The turn may have come as it left: then it holds a slot, which passes to the next one.
        if (!gate.leave_queue(pending.id())) gate.exit();
        co_return step == QueueStep::client_left ? Turn::client_left : Turn::timed_out;
    }
    co_return Turn::came;
}

}  // namespace cppworker::pipeline
