#include "async/io_thread.hpp"
#include "async/wakeup.hpp"
#include "requests/request_registry.hpp"

#include <boost/asio/io_context.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

using namespace cppworker::requests;
using namespace std::chrono_literals;

namespace {

Events taken(PendingRequest& r) {
    Events events;
    r.take_events(events);
    return events;
}

// The connection's side of a request's notifier: a wake-up on a loop of its own, counted once the
// loop has run what was posted to it.
struct Notices final : cppworker::async::Wakeup::Listener {
    boost::asio::io_context loop;
    cppworker::async::Wakeup wake{loop.get_executor()};
    int count = 0;

    Notices() { wake.listen(this); }
    void woken() override { ++count; }
    int seen() {
        loop.restart();
        loop.poll();
        return count;
    }
};

}  // namespace

TEST_CASE("a request completes exactly once", "[unit][requests]") {
    RequestRegistry registry(1024);
    auto r = registry.create();
    Notices notices;
    r->set_notifier(notices.wake.waker());

    int completions = 0;
    r->on_completed([&] { ++completions; });
    CHECK(r->respond(Answer{200, "application/json", {}, "{}"}) == CPPW_OK);
    CHECK(completions == 1);
    CHECK(r->respond(Answer{500, "", {}, ""}) == CPPW_WRONG_STATE);
    CHECK(completions == 1);
    CHECK(notices.seen() == 1);
    // A listener that comes late runs at once.
    r->on_completed([&] { ++completions; });
    CHECK(completions == 2);

    auto events = taken(*r);
    REQUIRE(events.size() == 1);
    CHECK(events[0].kind == Event::Kind::respond);
    CHECK(events[0].answer.body == "{}");
}

TEST_CASE("the registry forgets completed requests, ids are never reused", "[unit][requests]") {
    RequestRegistry registry(1024);
    auto a = registry.create();
    auto b = registry.create();
    CHECK(a->id() != b->id());
    CHECK(registry.size() == 2);
    registry.forget(a->id());
    CHECK(registry.find(a->id()) == nullptr);
    CHECK(registry.find(b->id()) == b);
    CHECK(registry.create()->id() > b->id());
}

TEST_CASE("streams go head, data, end, and refuse anything out of order", "[unit][requests]") {
    RequestRegistry registry(1024);
    auto r = registry.create();
    CHECK(r->stream_write("early") == CPPW_WRONG_STATE);
    CHECK(r->stream_begin(Answer{200, "text/event-stream", {}, ""}) == CPPW_OK);
    int completions = 0;
    r->on_completed([&] { ++completions; });
    CHECK(r->respond(Answer{}) == CPPW_WRONG_STATE);
    CHECK(r->stream_write("one") == CPPW_OK);
    CHECK(completions == 0);
    CHECK(r->stream_end(CPPW_OK) == CPPW_OK);
    CHECK(completions == 1);
    CHECK(r->stream_write("late") == CPPW_WRONG_STATE);

    auto events = taken(*r);
    REQUIRE(events.size() == 3);
    CHECK(events[0].kind == Event::Kind::stream_begin);
    CHECK(events[1].data == "one");
    CHECK(events[2].kind == Event::Kind::stream_end);
}

TEST_CASE("stream writes report backpressure above the high-water mark", "[unit][requests]") {
    RequestRegistry registry(100);
    auto r = registry.create();
    REQUIRE(r->stream_begin(Answer{}) == CPPW_OK);
    CHECK(r->stream_write(std::string(60, 'a')) == CPPW_OK);
    CHECK(r->stream_write(std::string(60, 'b')) == CPPW_BACKPRESSURE);
    taken(*r);
    r->sent(120);
    CHECK(r->stream_write(std::string(10, 'c')) == CPPW_OK);
}

TEST_CASE("stream_wait blocks until the client drained the queue", "[unit][requests]") {
    RequestRegistry registry(100);
    auto r = registry.create();
    REQUIRE(r->stream_begin(Answer{}) == CPPW_OK);
    REQUIRE(r->stream_write(std::string(150, 'x')) == CPPW_BACKPRESSURE);
    CHECK(r->stream_wait(1ms) == CPPW_BACKPRESSURE);  // nothing drained: times out

    std::thread consumer([&] {
        std::this_thread::sleep_for(20ms);
        r->sent(150);
    });
    CHECK(r->stream_wait(10s) == CPPW_OK);
    consumer.join();
}

TEST_CASE("stream_wait refuses to block an I/O thread", "[unit][requests]") {
    RequestRegistry registry(100);
    auto r = registry.create();
    REQUIRE(r->stream_begin(Answer{}) == CPPW_OK);
    std::thread io([&] {
        cppworker::async::mark_io_thread();
        CHECK(r->stream_wait(10s) == CPPW_WRONG_STATE);
    });
    io.join();
}

TEST_CASE("cancellation wakes waiters and turns answers into no-ops", "[unit][requests]") {
    RequestRegistry registry(100);
    auto r = registry.create();
    REQUIRE(r->stream_begin(Answer{}) == CPPW_OK);
    REQUIRE(r->stream_write(std::string(150, 'x')) == CPPW_BACKPRESSURE);
    std::thread canceller([&] {
        std::this_thread::sleep_for(20ms);
        r->cancel();
    });
    CHECK(r->stream_wait(10s) == CPPW_CANCELLED);
    canceller.join();
    CHECK(r->cancelled());
    CHECK(r->stream_write("more") == CPPW_CANCELLED);
    // Completing a cancelled request still completes it: its owner lets it go then.
    int completions = 0;
    r->on_completed([&] { ++completions; });
    CHECK(completions == 0);
    CHECK(r->stream_end(CPPW_OK) == CPPW_CANCELLED);
    CHECK(completions == 1);
    CHECK(taken(*r).empty());
}

TEST_CASE("the connection is woken for each event and for a cancel, and no more once it let go", "[unit][requests]") {
    RequestRegistry registry(1024);
    auto r = registry.create();
    Notices notices;
    r->set_notifier(notices.wake.waker());
    REQUIRE(r->stream_begin(Answer{}) == CPPW_OK);
    REQUIRE(r->stream_write("one") == CPPW_OK);
    CHECK(notices.seen() == 2);
    r->cancel();
    CHECK(notices.seen() == 3);
    // A cancel drops the notifier: the request has nothing more to say.
    r->cancel();
    CHECK(notices.seen() == 3);


    // A wake-up that comes after the waiter is gone finds nothing to wake.
    auto late = registry.create();
    boost::asio::io_context loop;
    int woken = 0;
    {
        struct Counting final : cppworker::async::Wakeup::Listener {
            int& calls;
            explicit Counting(int& c) : calls(c) {}
            void woken() override { ++calls; }
        } counting(woken);
        cppworker::async::Wakeup gone(loop.get_executor());
        gone.listen(&counting);
        late->set_notifier(gone.waker());
    }
    late->cancel();
    CHECK(loop.poll() == 1);
    CHECK(woken == 0);
}

TEST_CASE("cancel_all cancels every live request", "[unit][requests]") {
    RequestRegistry registry(100);
    auto a = registry.create();
    auto b = registry.create();
    registry.cancel_all();
    CHECK(a->cancelled());
    CHECK(b->cancelled());
}

TEST_CASE("finish listeners run once, on completion or cancellation", "[unit][requests]") {
    RequestRegistry registry(100);
    auto answered = registry.create();
    int runs = 0;
    REQUIRE(answered->on_finish([&] { ++runs; }));
    REQUIRE(answered->respond(Answer{200, "", {}, "{}"}) == CPPW_OK);
    CHECK(runs == 1);
    answered->cancel();
    CHECK(runs == 1);
    CHECK_FALSE(answered->on_finish([&] { ++runs; }));

    auto left = registry.create();
    REQUIRE(left->stream_begin(Answer{}) == CPPW_OK);
    REQUIRE(left->on_finish([&] { ++runs; }));
    left->cancel();
    CHECK(runs == 2);
    CHECK(left->stream_end(CPPW_OK) == CPPW_CANCELLED);
    CHECK(runs == 2);
}

TEST_CASE("a relayed request is the host's: begun once, and only while open", "[unit][requests]") {
    RequestRegistry registry(100);
    auto r = registry.create();
    CHECK(r->plugin_may_answer());
    CHECK(r->begin_relay() == CPPW_OK);
    CHECK_FALSE(r->plugin_may_answer());
    CHECK(r->begin_relay() == CPPW_WRONG_STATE);
    r->refuse("late refusal");  // a refusal cannot overtake the relay
    CHECK(taken(*r).empty());

    auto answered = registry.create();
    REQUIRE(answered->respond(Answer{}) == CPPW_OK);
    CHECK(answered->begin_relay() == CPPW_WRONG_STATE);

    auto gone = registry.create();
    gone->cancel();
    CHECK(gone->begin_relay() == CPPW_CANCELLED);
}

TEST_CASE("a drain listener runs once the client caught up, or at once if it already has", "[unit][requests]") {
    RequestRegistry registry(100);
    auto r = registry.create();
    REQUIRE(r->stream_begin(Answer{}) == CPPW_OK);
    int drained = 0;
    r->when_drained([&] { ++drained; });
    CHECK(drained == 1);

    REQUIRE(r->stream_write(std::string(150, 'x')) == CPPW_BACKPRESSURE);
    CHECK(r->over_high_water());
    r->when_drained([&] { ++drained; });
    r->sent(100);  // 50 left: above the low-water mark of 25
    CHECK(drained == 1);
    r->sent(30);
    CHECK(drained == 2);
    CHECK_FALSE(r->over_high_water());

    REQUIRE(r->stream_write(std::string(150, 'x')) == CPPW_BACKPRESSURE);
    r->when_drained([&] { ++drained; });
    r->cancel();
    CHECK(drained == 3);
}

TEST_CASE("a refusal after the stream began ends the stream with an error", "[unit][requests]") {
    RequestRegistry registry(100);
    auto r = registry.create();
    REQUIRE(r->stream_begin(Answer{}) == CPPW_OK);
    REQUIRE(r->stream_write("partial") == CPPW_OK);
    r->refuse("handle failed");
    const auto events = taken(*r);
    REQUIRE(events.size() == 3);
    CHECK(events[2].kind == Event::Kind::stream_end);
    CHECK(events[2].end_status == CPPW_ERROR);
    CHECK(events[2].data == "handle failed");
    CHECK(r->stream_write("more") == CPPW_WRONG_STATE);
}

TEST_CASE("a stream queued past the hard limit is cut: cancelled, and marked as overflowed", "[unit][requests]") {
    RequestRegistry registry(100);
    auto r = registry.create();
    REQUIRE(r->stream_begin(Answer{}) == CPPW_OK);
    const std::string piece(100, 'x');
    for (std::size_t i = 0; i < PendingRequest::hard_limit_factor; ++i) {
        REQUIRE(r->stream_write(piece) == (i == 0 ? CPPW_OK : CPPW_BACKPRESSURE));
    }
    CHECK_FALSE(r->cancelled());
    CHECK(r->stream_write("y") == CPPW_CANCELLED);
    CHECK(r->cancelled());
    CHECK(r->overflowed());
    CHECK(taken(*r).empty());  // what was queued is dropped with the stream
}

TEST_CASE("taking events into the same vector again leaves only the events queued since", "[unit][requests]") {
    RequestRegistry registry(1024);
    auto r = registry.create();
    REQUIRE(r->stream_begin(Answer{200, "text/event-stream", {}, ""}) == CPPW_OK);
    REQUIRE(r->stream_write("a") == CPPW_OK);
    Events events;
    r->take_events(events);
    REQUIRE(events.size() == 2);
    CHECK(events[1].data == "a");

    REQUIRE(r->stream_write("b") == CPPW_OK);
    REQUIRE(r->stream_write("c") == CPPW_OK);
    r->take_events(events);
    REQUIRE(events.size() == 2);
    CHECK(events[0].data == "b");
    CHECK(events[1].data == "c");
    r->take_events(events);
    CHECK(events.empty());
}
