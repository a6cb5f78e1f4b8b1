// Start-up refusals, command line, and graceful shutdown.
#include "http_client.hpp"
#include "worker_process.hpp"

#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <csignal>
#include <future>
#include <thread>

using namespace cppworker::test;
using namespace std::chrono_literals;

TEST_CASE("a broken plugin is refused at start with the reason", "[integration][lifecycle]") {
    auto [code, log] = WorkerProcess::run_to_exit(artifact(ZOO_BAD_MAGIC_PLUGIN));
    CHECK(code == 3);
    CHECK_THAT(log, Catch::Contains("bad magic"));

    std::tie(code, log) = WorkerProcess::run_to_exit(artifact(ZOO_INIT_FAILS_PLUGIN));
    CHECK(code == 3);
    CHECK_THAT(log, Catch::Contains("init failed") && Catch::Contains("model weights missing"));

    std::tie(code, log) = WorkerProcess::run_to_exit("/nonexistent/plugin.so");
    CHECK(code == 3);
    CHECK_THAT(log, Catch::Contains("no such file"));
}

TEST_CASE("a port already in use stops the worker at start with exit code 1 and the reason", "[integration][lifecycle]") {
    // Another worker on the port, chosen the way a deployment chooses it: WORKER_PORT.
    WorkerProcess first(artifact(HELLO_WORLD_PLUGIN), {}, {{"UNSECURED", "true"}});
    auto [code, log] = WorkerProcess::run_to_exit(artifact(HELLO_WORLD_PLUGIN), {},
                                                  {{"UNSECURED", "true"}, {"WORKER_PORT", std::to_string(first.port())}});
    CHECK(code == 1);
    CHECK_THAT(log, Catch::Contains("cannot start") && Catch::Contains("Address already in use"));
    CHECK_THAT(log, !Catch::Contains("listening on"));
    // The first one is undisturbed.
    CHECK(http(first.port(), "GET", "/healthz").status == 200);

    // Any other listener, and the port given as a flag.
    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor taken(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    std::tie(code, log) = WorkerProcess::run_to_exit(
        artifact(HELLO_WORLD_PLUGIN), {"--port", std::to_string(taken.local_endpoint().port())}, {{"UNSECURED", "true"}});
    CHECK(code == 1);
    CHECK_THAT(log, Catch::Contains("cannot start") && Catch::Contains("Address already in use"));
}

TEST_CASE("the help text lists the flags with their environment variables", "[integration][lifecycle]") {
    auto [code, log] = WorkerProcess::run_to_exit("", {"--help"});
    CHECK(code == 0);
    CHECK_THAT(log, Catch::Contains("--port") && Catch::Contains("WORKER_PORT") && Catch::Contains("BACKEND"));

    std::tie(code, log) = WorkerProcess::run_to_exit("", {"--no-such-flag"});
    CHECK(code != 0);
    CHECK_THAT(log, Catch::Contains("--no-such-flag"));
}

TEST_CASE("SIGTERM finishes the request in flight, finalizes, exits 0", "[integration][lifecycle]") {
    WorkerProcess w(artifact(TESTKIT_PLUGIN));
    auto in_flight = std::async(std::launch::async, [&] {
        return http(w.port(), "POST", "/sleep", R"({"payload": {"ms": 1000}})");
    });
    REQUIRE(w.wait_for_log("sleep started"));
    w.signal(SIGTERM);
    REQUIRE(w.wait_for_log("no longer accepting"));

    // New connections are refused while the old one drains.
    CHECK_THROWS(HttpConnection(w.port()));

    auto r = in_flight.get();
    CHECK(r.status == 200);
    CHECK(r.body == R"({"slept_ms":1000})");
    CHECK_FALSE(r.keep_alive);
    CHECK(w.wait_exit(10s) == 0);
    CHECK_THAT(w.log(), Catch::Contains("draining 1 open connection") && Catch::Contains("testkit finalized"));
}

TEST_CASE("SIGINT closes idle keep-alive connections at once", "[integration][lifecycle]") {
    WorkerProcess w(artifact(HELLO_WORLD_PLUGIN));
    HttpConnection idle(w.port());
    REQUIRE(idle.request("GET", "/value").keep_alive);
    w.signal(SIGINT);
    CHECK(idle.closed_by_peer(5s));
    CHECK(w.wait_exit(5s) == 0);
}

TEST_CASE("the drain is bounded when a request never finishes", "[integration][lifecycle]") {
    WorkerProcess w(artifact(ZOO_NEVER_COMPLETES_PLUGIN), {"--drain-timeout", "0.5"});
    HttpConnection c(w.port());
    c.send_raw("POST /hang HTTP/1.1\r\nHost: x\r\nContent-Length: 15\r\n\r\n{\"payload\": {}}");
    REQUIRE(wait_metric(w.port(), "cppworker_requests_working", 1));
    w.signal(SIGTERM);
    CHECK(w.wait_exit(10s) == 0);
    CHECK_THAT(w.log(), Catch::Contains("drain timeout"));
}

TEST_CASE("the plugin is finalized only after its blocking handle calls returned", "[integration][lifecycle]") {
    // /sleep stops early once its request is given up, as the drain timeout does here.
    WorkerProcess w(artifact(TESTKIT_PLUGIN), {"--drain-timeout", "0.5"});
    auto in_flight = std::async(std::launch::async, [&] {
        return http(w.port(), "POST", "/sleep", R"({"payload": {"ms": 20000}})");
    });
    REQUIRE(w.wait_for_log("sleep started"));
    w.signal(SIGTERM);
    CHECK(w.wait_exit(10s) == 0);
    const auto log = w.log();
    const auto ended = log.find("sleep ended"), finalized = log.find("testkit finalized");
    REQUIRE(ended != std::string::npos);
    REQUIRE(finalized != std::string::npos);
    CHECK(ended < finalized);
    in_flight.wait();  // its answer is not the point: the connection ends with the process
}

TEST_CASE("a blocking handle call that ignores its cancel does not hold the shutdown", "[integration][lifecycle]") {
    // /fifo sleeps without looking at its request; the process ends without finalizing under it.
    WorkerProcess w(artifact(TESTKIT_PLUGIN), {"--drain-timeout", "0.5"});
    auto in_flight = std::async(std::launch::async, [&] {
        return http(w.port(), "POST", "/fifo", R"({"payload": {"tag": 1, "ms": 8000}})");
    });
    REQUIRE(w.wait_for_log("fifo request 1 started"));
    w.signal(SIGTERM);
    CHECK(w.wait_exit(5s) == 1);
    const auto log = w.log();
    CHECK_THAT(log, Catch::Contains("1 handle call(s) of the plugin still running") &&
                        Catch::Contains("exiting without finalizing plugin testkit"));
    CHECK_THAT(log, !Catch::Contains("testkit finalized"));
    in_flight.wait();  // its answer is not the point: the connection ends with the process
}
