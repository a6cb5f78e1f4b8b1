#pragma once

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <memory>
#include <utility>

namespace cppworker::async {

// A timer that one coroutine waits on and that any thread may cut short: how a request's coroutine
// hears that its answer has news, that its turn in a queue came, or that its client caught up.
// The waker holds the timer weakly, so a wake-up that comes after the waiter is gone does nothing.
// A wake-up while nobody waits is lost: the waiter looks at what it waits for before each wait.
class Wakeup {
public:
    using Timer = boost::asio::steady_timer;

    // Told of every wake-up, on the timer's loop: what the waiter does while it is not waiting (a
    // write under way) may have to hear of it too.
    class Listener {
    public:
        virtual void woken() = 0;

    protected:
        ~Listener() = default;
    };

private:
    struct State {
        explicit State(const Timer::executor_type& executor) : timer(executor) {}
        Timer timer;
        Listener* listener = nullptr;
    };

public:
    // A plain value, copied without allocating: it goes with every request to whoever answers it.
    class Waker {
    public:
        // Callable from any thread, any number of times: the wait under way ends early.
        void operator()() const {
            boost::asio::post(executor_, [weak = state_] {
                const auto state = weak.lock();
                if (!state) return;
                state->timer.cancel();
                if (state->listener != nullptr) state->listener->woken();
            });
        }

    private:
        friend class Wakeup;
        Waker(std::weak_ptr<State> state, Timer::executor_type executor)
            : state_(std::move(state)), executor_(std::move(executor)) {}
        std::weak_ptr<State> state_;
        Timer::executor_type executor_;
    };

    explicit Wakeup(const Timer::executor_type& executor) : state_(std::make_shared<State>(executor)) {}

    Timer& timer() { return state_->timer; }

    Waker waker() const { return Waker(state_, state_->timer.get_executor()); }

    // One listener at a time, set and cleared on the timer's loop; nullptr for none.
    void listen(Listener* listener) { state_->listener = listener; }

private:
    std::shared_ptr<State> state_;
};

}  // namespace cppworker::async
