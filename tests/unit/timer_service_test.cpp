// The timer_start host service (ABI 1.4) on an event loop of the test's own: when a callback runs,
// with which status, on which thread, and when it never runs; and the SDK's Reply::after over it.
#include "plugin/host.hpp"
#include "plugin/timer_service.hpp"
#include "requests/request_registry.hpp"

#include <cppworker/plugin.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <thread>
#include <vector>

using namespace cppworker;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

struct Calls {
    std::vector<cppw_status> statuses;
    std::thread::id thread;
    bool test_is_calling = false;  // the test is inside a call into the request
    bool ran_inside_a_call = false;
};

void record(void* user, cppw_request_id, cppw_status status) {
    auto& calls = *static_cast<Calls*>(user);
    calls.statuses.push_back(status);
    calls.thread = std::this_thread::get_id();
    calls.ran_inside_a_call = calls.ran_inside_a_call || calls.test_is_calling;
}

struct Loop {
    boost::asio::io_context context{1};
    requests::RequestRegistry registry{1024};
    plugin::TimerService timers{"test"};

    std::shared_ptr<requests::PendingRequest> request() {
        auto r = registry.create();
        r->set_loop(context.get_executor());
        return r;
    }
};

}  // namespace

TEST_CASE("timers: a due timer calls back once with CPPW_OK, on the request's loop and not before",
          "[unit][timers]") {
    Loop loop;
    Calls calls;
    auto unhanded = loop.registry.create();
    CHECK(loop.timers.start(unhanded, 1ms, &record, &calls) == CPPW_WRONG_STATE);  // no loop: handle has not run

    const auto request = loop.request();
    const auto started = Clock::now();
    REQUIRE(loop.timers.start(request, 30ms, &record, &calls) == CPPW_OK);
    CHECK(calls.statuses.empty());  // never inside timer_start
    CHECK(loop.timers.pending() == 1);
    std::thread runner([&] { loop.context.run(); });
    const auto loop_thread = runner.get_id();
    runner.join();
    REQUIRE(calls.statuses == std::vector<cppw_status>{CPPW_OK});
    CHECK(Clock::now() - started >= 30ms);
    CHECK(calls.thread == loop_thread);
    CHECK(loop.timers.pending() == 0);
}

TEST_CASE("timers: several timers of one request each call back once, in the order they fall due",
          "[unit][timers]") {
    struct Noted {
        std::vector<int>* order;
        int index;
    };
    const auto note = [](void* user, cppw_request_id, cppw_status status) {
        const auto& n = *static_cast<Noted*>(user);
        n.order->push_back(status == CPPW_OK ? n.index : -1);
    };
    Loop loop;
    std::vector<int> order;
    Noted last{&order, 2}, first{&order, 0}, middle{&order, 1};
    const auto request = loop.request();
    REQUIRE(loop.timers.start(request, 40ms, note, &last) == CPPW_OK);
    REQUIRE(loop.timers.start(request, 0ms, note, &first) == CPPW_OK);
    REQUIRE(loop.timers.start(request, 20ms, note, &middle) == CPPW_OK);
    loop.context.run();
    CHECK(order == std::vector<int>{0, 1, 2});
}

TEST_CASE("timers: a request given up calls back with CPPW_CANCELLED at once, never inside the call that gave it up",
          "[unit][timers]") {
    Loop loop;
    Calls calls;
    const auto request = loop.request();
    const auto started = Clock::now();
    REQUIRE(loop.timers.start(request, 60s, &record, &calls) == CPPW_OK);
    boost::asio::post(loop.context, [&] {
        calls.test_is_calling = true;
        request->cancel();
        calls.test_is_calling = false;
    });
    loop.context.run();
    CHECK(calls.statuses == std::vector<cppw_status>{CPPW_CANCELLED});
    CHECK_FALSE(calls.ran_inside_a_call);
    CHECK(Clock::now() - started < 30s);

    // Given up before the timer was asked for: it is due at once, as cancelled.
    Calls late;
    const auto gone = loop.request();
    gone->cancel();
    REQUIRE(loop.timers.start(gone, 60s, &record, &late) == CPPW_OK);
    loop.context.restart();
    loop.context.run();
    CHECK(late.statuses == std::vector<cppw_status>{CPPW_CANCELLED});
}

TEST_CASE("timers: a request completed first never calls back, and its timer is gone at once", "[unit][timers]") {
    Loop loop;
    Calls calls;
    const auto request = loop.request();
    REQUIRE(loop.timers.start(request, 60s, &record, &calls) == CPPW_OK);
    REQUIRE(loop.timers.start(request, 60s, &record, &calls) == CPPW_OK);
    boost::asio::post(loop.context, [&] {
        REQUIRE(request->respond(requests::Answer{}) == CPPW_OK);
        // Given up after its completion: still nothing to call back for.
        request->cancel();
    });
    const auto started = Clock::now();
    loop.context.run();
    CHECK(calls.statuses.empty());
    CHECK(loop.timers.pending() == 0);
    CHECK(Clock::now() - started < 30s);
}

TEST_CASE("timers: at shutdown every waiting timer calls back as cancelled on the caller's thread, and later ones are refused",
          "[unit][timers]") {
    Loop loop;
    Calls open_calls, completed_calls, refused_calls;
    const auto open = loop.request();
    const auto completed = loop.request();
    REQUIRE(loop.timers.start(open, 60s, &record, &open_calls) == CPPW_OK);
    REQUIRE(loop.timers.start(completed, 60s, &record, &completed_calls) == CPPW_OK);
    REQUIRE(completed->respond(requests::Answer{}) == CPPW_OK);

    // The loop does not run any more, as after the worker's loops stopped.
    loop.timers.abandon_all();
    CHECK(open_calls.statuses == std::vector<cppw_status>{CPPW_CANCELLED});
    CHECK(open_calls.thread == std::this_thread::get_id());
    CHECK(completed_calls.statuses.empty());
    CHECK(loop.timers.pending() == 0);
    CHECK(loop.timers.start(open, 1ms, &record, &refused_calls) == CPPW_CANCELLED);
    loop.context.run();
    CHECK(open_calls.statuses.size() == 1);
    CHECK(refused_calls.statuses.empty());
}

TEST_CASE("timers: the host service checks its request, and a 1.3 host's table lacks it", "[unit][timers]") {
    Loop loop;
    plugin::Host host("test", {}, loop.registry);
    const auto* services = host.services();
    REQUIRE(CPPW_HAS_SERVICE(services, timer_start));
    Calls calls;
    const auto request = loop.request();
    // Not serving yet, then serving.
    CHECK(services->timer_start(services->host, request->id(), 1, &record, &calls) == CPPW_UNSUPPORTED);
    host.set_timers(&loop.timers);
    CHECK(services->timer_start(services->host, request->id(), 1, nullptr, &calls) == CPPW_INVALID_ARGUMENT);
    CHECK(services->timer_start(services->host, CPPW_NO_REQUEST, 1, &record, &calls) == CPPW_INVALID_ARGUMENT);
    CHECK(services->timer_start(services->host, 999999, 1, &record, &calls) == CPPW_UNKNOWN_REQUEST);
    const auto relayed = loop.request();
    REQUIRE(relayed->begin_relay() == CPPW_OK);
    CHECK(services->timer_start(services->host, relayed->id(), 1, &record, &calls) == CPPW_WRONG_STATE);
    const auto gone = loop.request();
    gone->cancel();
    CHECK(services->timer_start(services->host, gone->id(), 1, &record, &calls) == CPPW_CANCELLED);
    CHECK(services->timer_start(services->host, request->id(), 1, &record, &calls) == CPPW_OK);
    loop.context.run();
    CHECK(calls.statuses == std::vector<cppw_status>{CPPW_OK});

    // The table a 1.3 host hands out ends before timer_start: a 1.4 plugin can tell.
    cppw_host_services older = *services;
    older.abi_minor = 3;
    older.struct_size = static_cast<uint32_t>(offsetof(cppw_host_services, timer_start));
    CHECK_FALSE(CPPW_HAS_SERVICE(&older, timer_start));
    CHECK(CPPW_HAS_SERVICE(&older, attach_state));
    host.set_timers(nullptr);
}

TEST_CASE("timers: Reply::after calls back through the host, and drops what a completion leaves unrun",
          "[unit][timers]") {
    Loop loop;
    plugin::Host host("test", {}, loop.registry);
    host.set_timers(&loop.timers);
    const cppworker::Host sdk(host.services());

    const auto request = loop.request();
    auto reply = std::make_shared<cppworker::Reply>(sdk, request->id());
    std::vector<cppw_status> heard;
    REQUIRE(reply->after(20ms, [&heard, reply](cppw_status st) {
        heard.push_back(st);
        // Completed with a second timer still waiting: that one must never call back.
        REQUIRE(reply->after(60s, [&heard](cppw_status) { heard.push_back(CPPW_ERROR); }) == CPPW_OK);
        reply->json(200, "{}");
    }) == CPPW_OK);
    const std::weak_ptr<cppworker::Reply> watched = reply;
    reply.reset();  // held by the waiting function only
    loop.context.run();
    CHECK(heard == std::vector<cppw_status>{CPPW_OK});
    CHECK(watched.expired());  // both functions are gone, and the Reply with them
    CHECK(loop.timers.pending() == 0);

    // On a 1.3 host there is no timer: refused, and the function destroyed unrun.
    cppw_host_services older = *host.services();
    older.abi_minor = 3;
    older.struct_size = static_cast<uint32_t>(offsetof(cppw_host_services, timer_start));
    const auto other = loop.request();
    auto held = std::make_shared<int>(0);
    {
        cppworker::Reply old_reply(cppworker::Host(&older), other->id());
        CHECK(old_reply.after(1ms, [held](cppw_status) {}) == CPPW_UNSUPPORTED);
        CHECK(held.use_count() == 1);
        old_reply.json(200, "{}");
    }
    host.set_timers(nullptr);
}
