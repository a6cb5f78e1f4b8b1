// The supervisor's decisions, as values: the back-off schedule, the crash description the
// autoscaler reads, the lines master and worker exchange, and the workers' titles.
#include "supervisor/crash_policy.hpp"
#include "os/exit_description.hpp"
#include "supervisor/messages.hpp"
#include "supervisor/process_title.hpp"

#include <catch2/catch.hpp>

#include <csignal>

#include <sys/wait.h>

using namespace cppworker::supervisor;
using cppworker::os::describe_exit;
using cppworker::os::exited_cleanly;
using namespace std::chrono_literals;

TEST_CASE("a crash is described by its signal name or its exit code", "[unit][supervisor]") {
    CHECK(describe_exit(W_EXITCODE(0, SIGSEGV)) == "killed by signal 11 (SIGSEGV)");
    CHECK(describe_exit(W_EXITCODE(0, SIGABRT) | WCOREFLAG) == "killed by signal 6 (SIGABRT), core dumped");
    CHECK(describe_exit(W_EXITCODE(3, 0)) == "exited with code 3");
    CHECK(describe_exit(W_EXITCODE(0, 0)) == "exited with code 0");
    CHECK(exited_cleanly(W_EXITCODE(0, 0)));
    CHECK_FALSE(exited_cleanly(W_EXITCODE(1, 0)));
    CHECK_FALSE(exited_cleanly(W_EXITCODE(0, SIGKILL)));
}

TEST_CASE("restarts wait nothing after the first crash, then twice as long each time up to the cap",
          "[unit][supervisor]") {
    CHECK(restart_delay(1, 500ms, 30s) == 0ms);
    CHECK(restart_delay(2, 500ms, 30s) == 500ms);
    CHECK(restart_delay(3, 500ms, 30s) == 1000ms);
    CHECK(restart_delay(4, 500ms, 30s) == 2000ms);
    CHECK(restart_delay(8, 500ms, 30s) == 30s);
    CHECK(restart_delay(1000, 500ms, 30s) == 30s);
}

TEST_CASE("the crash policy gives up at the bound within its window and forgets older crashes",
          "[unit][supervisor]") {
    CrashPolicy policy;  // 5 crashes in 60 s
    const auto t0 = std::chrono::steady_clock::time_point{} + 1h;
    auto d = policy.crashed(t0);
    CHECK_FALSE(d.give_up);
    CHECK(d.delay == 0ms);
    CHECK(d.crashes_in_window == 1);
    CHECK(policy.crashed(t0 + 1s).delay == 500ms);
    CHECK(policy.crashed(t0 + 2s).delay == 1000ms);
    CHECK(policy.crashed(t0 + 3s).delay == 2000ms);
    d = policy.crashed(t0 + 4s);
    CHECK(d.give_up);
    CHECK(d.crashes_in_window == 5);

    CrashPolicy spaced;
    // A crash now and then, each more than the window after the one before, is always a first.
    for (int i = 0; i < 10; ++i) {
        d = spaced.crashed(t0 + std::chrono::minutes(2 * i));
        CHECK_FALSE(d.give_up);
        CHECK(d.delay == 0ms);
        CHECK(d.crashes_in_window == 1);
    }
}

TEST_CASE("supervisor messages read back as they were written", "[unit][supervisor]") {
    const Counters c{1234, 10.5, 7.25, 1e-05, 0, 3};
    for (const auto kind : {Message::Kind::counted, Message::Kind::final_counters, Message::Kind::report}) {
        const auto line = format_message({kind, c});
        REQUIRE(line.back() == '\n');
        const auto m = parse_message(std::string_view(line).substr(0, line.size() - 1));
        REQUIRE(m);
        CHECK(m->kind == kind);
        CHECK(m->counters == c);
    }
    CHECK(format_message({Message::Kind::ready, {}}) == "ready\n");
    CHECK(parse_message("ready")->kind == Message::Kind::ready);
    CHECK(format_message({Message::Kind::report, c}) == "report 1234 10.5 7.25 1e-05 0 3\n");

    CHECK_FALSE(parse_message(""));
    CHECK_FALSE(parse_message("ready now"));
    CHECK_FALSE(parse_message("report 1 2 3"));
    CHECK_FALSE(parse_message("report x 0 0 0 0 0"));
    CHECK_FALSE(parse_message("report -1 0 0 0 0 0"));
    CHECK_FALSE(parse_message("hello 1 0 0 0 0 0"));
}

TEST_CASE("a worker's title names its master and its generation, and reads back", "[unit][supervisor]") {
    CHECK(worker_title("cppworker", 0) == "cppworker: worker (generation 0)");
    CHECK(worker_title("cppworker", 12) == "cppworker: worker (generation 12)");
    const auto parts = parse_worker_title(worker_title("my worker", 3));
    REQUIRE(parts);
    CHECK(parts->name == "my worker");
    CHECK(parts->generation == 3);
    // What the master itself or anything else is started as is no worker's title.
    for (const char* other : {"cppworker", "/opt/cppworker/bin/cppworker", ": worker (generation 1)",
                              "cppworker: worker (generation )", "cppworker: worker (generation -1)",
                              "cppworker: worker (generation 1x)", "cppworker: worker (generation 1"}) {
        INFO(other);
        CHECK_FALSE(parse_worker_title(other));
    }
}
