#include "async/call_count.hpp"

#include <catch2/catch.hpp>

#include <thread>

using cppworker::async::CallCount;
using namespace std::chrono_literals;

TEST_CASE("CallCount waits until the last call ended, and no longer than its limit", "[unit][async]") {
    CallCount calls;
    CHECK(calls.wait_idle(0ms));
    calls.begin();
    calls.begin();
    CHECK(calls.running() == 2);
    CHECK_FALSE(calls.wait_idle(10ms));
    calls.end();
    CHECK_FALSE(calls.wait_idle(0ms));
    std::thread last([&] { calls.end(); });
    CHECK(calls.wait_idle(60s));
    CHECK(calls.running() == 0);
    last.join();
}
