#pragma once

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <memory>

namespace cppworker::async {

// A timer that one coroutine waits on and that any thread may cut short: how a request's coroutine
// hears that its answer has news, that its turn in a queue came, or that its client caught up.
// The waker holds the timer weakly, so a wake-up that comes after the waiter is gone does nothing.
// A wake-up while nobody waits is lost: the waiter looks at what it waits for before each wait.
class Wakeup {
public:
    using Timer = boost::asio::steady_timer;

    explicit Wakeup(const Timer::executor_type& executor) : timer_(std::make_shared<Timer>(executor)) {}

    Timer& timer() { return *timer_; }

    // Callable from any thread, any number of times: the wait under way ends early.
    std::function<void()> waker() const {
        return [weak = std::weak_ptr(timer_), executor = timer_->get_executor()] {
            boost::asio::post(executor, [weak] {
                if (const auto timer = weak.lock()) timer->cancel();
            });
        };
    }

private:
    std::shared_ptr<Timer> timer_;
};

}  // namespace cppworker::async
