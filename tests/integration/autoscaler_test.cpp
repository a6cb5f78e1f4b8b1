// The worker reports to a fake autoscaler exactly what PyWorker Gen 3 would (core/protocol.md §2).
#include "fake_http_server.hpp"
#include "http_client.hpp"
#include "worker_process.hpp"

#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include <csignal>
#include <functional>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <set>
#include <thread>

using namespace cppworker::test;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

FakeHttpServer::Answerer accept_all() {
    return [](const ReceivedRequest&) { return CannedAnswer{200, "{}"}; };
}

std::vector<json::object> bodies(const FakeHttpServer& fake, const std::string& path) {
    std::vector<json::object> out;
    for (const auto& r : fake.received()) {
        if (r.target == path) out.push_back(json::parse(r.body).as_object());
    }
    return out;
}

// Waits for a body posted to `path` that satisfies `want`.
template <class Want>
std::optional<json::object> wait_for_body(const FakeHttpServer& fake, const std::string& path, Want want,
                                          std::chrono::seconds limit = 20s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        for (auto& b : bodies(fake, path)) {
            if (want(b)) return b;
        }
        std::this_thread::sleep_for(50ms);
    }
    return std::nullopt;
}

std::map<std::string, std::string> vast_env(const std::string& report_addr) {
    return {{"REPORT_ADDR", report_addr}, {"CONTAINER_ID", "42"}, {"PUBLIC_IPADDR", "1.2.3.4"},
            {"MASTER_TOKEN", "tok"},      {"UNSECURED", "true"}};
}

std::string enveloped(int idx, const std::string& payload) {
    return R"({"auth_data": {"cost": 1, "endpoint": "e", "reqnum": )" + std::to_string(idx) + R"(, "request_idx": )" +
           std::to_string(idx) + R"(, "signature": "-", "url": "u"}, "payload": )" + payload + "}";
}

// A port on 127.0.0.1 where nothing listens: connecting to it is refused.
uint16_t refusing_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    ::close(fd);  // bound but never listening: closed, the port refuses connections
    return ntohs(addr.sin_port);
}

bool poll_until(const std::function<bool()>& done, std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(50ms);
    }
    return true;
}

}  // namespace

TEST_CASE("status reports carry Gen 3's 17 fields, in order, with their types", "[integration][autoscaler]") {
    FakeHttpServer autoscaler(accept_all());
    WorkerProcess w(artifact(HELLO_WORLD_PLUGIN), {"--external-port", "40123"}, vast_env(autoscaler.url()));
    const auto report = wait_for_body(autoscaler, "/worker_status/", [](const json::object&) { return true; }, 5s);
    REQUIRE(report);
    const std::vector<std::string> order = {"id", "mtoken", "version", "loadtime", "cur_load", "rej_load",
                                            "new_load", "error_msg", "max_perf", "cur_perf", "cur_capacity",
                                            "max_capacity", "num_requests_working", "num_requests_recieved",
                                            "additional_disk_usage", "working_request_idxs", "url"};
    std::vector<std::string> keys;
    for (const auto& kv : *report) keys.emplace_back(kv.key());
    CHECK(keys == order);
    const auto& r = *report;
    CHECK(r.at("id") == 42);
    CHECK(r.at("mtoken") == "tok");
    CHECK(r.at("version") == "1.1.0");
    CHECK(r.at("loadtime").is_double());
    CHECK(r.at("max_perf").is_double());
    CHECK(r.at("additional_disk_usage").is_double());
    CHECK(r.at("cur_capacity") == 0);
    CHECK(r.at("max_capacity") == 0);
    CHECK(r.at("num_requests_working").is_int64());
    CHECK(r.at("num_requests_recieved").is_int64());
    CHECK(r.at("working_request_idxs").is_array());
    CHECK(r.at("error_msg") == "");
    CHECK(r.at("url") == "http://1.2.3.4:40123");
}

TEST_CASE("the worker reports loaded with its benchmark, then its traffic within a second or so",
          "[integration][autoscaler]") {
    FakeHttpServer autoscaler(accept_all());
    WorkerProcess w(artifact(HELLO_WORLD_PLUGIN), {"--external-port", "1"}, vast_env(autoscaler.url()));
    const auto loaded = wait_for_body(autoscaler, "/worker_status/", [](const json::object& b) {
        return b.at("loadtime").as_double() > 0;
    });
    REQUIRE(loaded);
    CHECK(loaded->at("max_perf").as_double() > 0);

    CHECK(http(w.port(), "POST", "/generate", enveloped(9, R"({"prompt": "four"})")).status == 200);
    const auto busy = wait_for_body(autoscaler, "/worker_status/", [](const json::object& b) {
        return b.at("cur_perf").to_number<double>() > 0;
    }, 5s);
    REQUIRE(busy);
    CHECK(busy->at("cur_perf").to_number<double>() == 4);  // the prompt's length
    CHECK(busy->at("new_load").to_number<double>() == 4);
    CHECK(busy->at("num_requests_recieved") == 1);
    CHECK(busy->at("num_requests_working") == 0);
}

TEST_CASE("delete_requests names finished requests, split by success", "[integration][autoscaler]") {
    FakeHttpServer autoscaler(accept_all());
    WorkerProcess w(artifact(TESTKIT_PLUGIN), {"--external-port", "1"}, vast_env(autoscaler.url()));
    CHECK(http(w.port(), "POST", "/late", enveloped(5, R"({"ms": 1})")).status == 200);
    CHECK(http(w.port(), "POST", "/fail", enveloped(6, "{}")).status == 500);
    const auto ok = wait_for_body(autoscaler, "/delete_requests/", [](const json::object& b) {
        return b.at("success") == true;
    }, 5s);
    const auto failed = wait_for_body(autoscaler, "/delete_requests/", [](const json::object& b) {
        return b.at("success") == false;
    }, 5s);
    REQUIRE(ok);
    REQUIRE(failed);
    CHECK(json::serialize(*ok) == R"({"worker_id":42,"mtoken":"tok","request_idxs":[5],"success":true})");
    CHECK(failed->at("request_idxs") == json::array{6});
    // Delivered entries are not sent again: the next delivery names only what is new.
    CHECK(http(w.port(), "POST", "/late", enveloped(7, R"({"ms": 1})")).status == 200);
    REQUIRE(wait_for_body(autoscaler, "/delete_requests/", [](const json::object& b) {
        return b.at("request_idxs") == json::array{7};
    }, 5s));
    CHECK(bodies(autoscaler, "/delete_requests/").size() == 3);
}

TEST_CASE("a request still open at the drain deadline ends as cancelled, and the last reports say so",
          "[integration][autoscaler][lifecycle]") {
    // zoo_never_completes never answers and has no cancel hook: only the drain deadline ends its
    // request. Plain and supervised (as start_server.sh runs it on Vast), the last status report
    // no longer lists it as working, and /delete_requests/ names it, before the plugin is finalized.
    for (const bool supervised : {false, true}) {
        INFO((supervised ? "supervised" : "plain") << " worker");
        FakeHttpServer autoscaler(accept_all());
        std::vector<std::string> args{"--external-port", "1", "--drain-timeout", "0.5"};
        if (supervised) args.push_back("--supervise");
        WorkerProcess w(artifact(ZOO_NEVER_COMPLETES_PLUGIN), args, vast_env(autoscaler.url()));
        HttpConnection hung(w.port());
        const auto body = enveloped(9, "{}");
        hung.send_raw("POST /hang HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(body.size()) +
                      "\r\n\r\n" + body);
        REQUIRE(wait_for_body(autoscaler, "/worker_status/", [](const json::object& b) {
            return b.at("working_request_idxs") == json::array{9};
        }));
        w.signal(SIGTERM);
        REQUIRE(w.wait_exit(20s) == 0);
        const auto log = w.log();
        CHECK_THAT(log, Catch::Contains("drain timeout: cancelling 1 request(s) still open"));
        const auto reports = bodies(autoscaler, "/worker_status/");
        REQUIRE(!reports.empty());
        CHECK(reports.back().at("working_request_idxs") == json::array{});
        CHECK(reports.back().at("num_requests_working") == 0);
        // Cancelled counts as done for the autoscaler, as PyWorker's delete entries have it.
        CHECK(wait_for_body(autoscaler, "/delete_requests/", [](const json::object& b) {
            return b.at("request_idxs") == json::array{9} && b.at("success") == true;
        }, 1s));
        const auto cancelled = log.find("drain timeout"), finalized = log.find("finalizing plugin");
        REQUIRE(finalized != std::string::npos);
        CHECK(cancelled < finalized);
    }
}

namespace {

struct StoppedDuringReport {
    std::string log;
    std::vector<json::object> reports;
};

// `requests` go through a worker whose autoscaler, once traffic was counted, takes `delay` over
// each status report; the worker is stopped while one is under way.
StoppedDuringReport stop_during_slow_report(std::chrono::milliseconds delay, int requests) {
    std::atomic<bool> slow{false};
    std::atomic<int> slow_answers{0};
    FakeHttpServer autoscaler([&](const ReceivedRequest& r) {
        if (r.target == "/worker_status/" && slow) {
            ++slow_answers;
            std::this_thread::sleep_for(delay);
        }
        return CannedAnswer{200, "{}"};
    });
    WorkerProcess w(artifact(RELOADABLE_V1_PLUGIN), {"--external-port", "1"}, vast_env(autoscaler.url()));
    REQUIRE(wait_for_body(autoscaler, "/worker_status/", [](const json::object& b) {
        return b.at("max_perf").to_number<double>() > 0;
    }));
    slow = true;
    for (int i = 1; i <= requests; ++i) REQUIRE(http(w.port(), "POST", "/work", enveloped(i, R"({"ms": 0})")).status == 200);
    REQUIRE(poll_until([&] { return slow_answers > 0; }, 10s));
    w.signal(SIGTERM);
    REQUIRE(w.wait_exit(30s) == 0);
    return {w.log(), bodies(autoscaler, "/worker_status/")};
}

}  // namespace

TEST_CASE("a status report under way when the worker stops has its answer first, and no figure goes twice",
          "[integration][autoscaler][lifecycle]") {
    // Cut off, that report reached the autoscaler all the same, and the last report would carry
    // its figures again.
    constexpr int requests = 5;
    const auto stopped = stop_during_slow_report(1500ms, requests);
    double new_load = 0, cur_perf = 0;
    for (const auto& b : stopped.reports) {
        new_load += b.at("new_load").to_number<double>();
        cur_perf += b.at("cur_perf").to_number<double>();
    }
    INFO(stopped.log);
    CHECK(new_load == requests);
    CHECK(cur_perf == requests);
}

TEST_CASE("a status report still unanswered 3 s after the drain does not hold the worker's stop",
          "[integration][autoscaler][lifecycle]") {
    const auto stopped = stop_during_slow_report(5000ms, 1);
    CHECK_THAT(stopped.log, Catch::Contains("a report to the autoscaler still under way 3 s after the drain; "
                                            "stopping regardless"));
}

TEST_CASE("nothing is lost while the autoscaler is down", "[integration][autoscaler]") {
    FakeHttpServer autoscaler(accept_all());
    WorkerProcess w(artifact(HELLO_WORLD_PLUGIN), {"--external-port", "1"}, vast_env(autoscaler.url()));
    REQUIRE(wait_for_body(autoscaler, "/worker_status/", [](const json::object&) { return true; }, 5s));
    autoscaler.set_refusing(true);
    const auto reports_before = bodies(autoscaler, "/worker_status/").size();
    for (int i = 0; i < 3; ++i) {
        CHECK(http(w.port(), "POST", "/generate", enveloped(100 + i, R"({"prompt": "abcde"})")).status == 200);
    }
    // What the worker tried to say about them was refused at least once.
    const auto tries = autoscaler.connections();
    const auto refused_deadline = std::chrono::steady_clock::now() + 10s;
    while (autoscaler.connections() == tries && std::chrono::steady_clock::now() < refused_deadline) {
        std::this_thread::sleep_for(20ms);
    }
    REQUIRE(autoscaler.connections() > tries);
    autoscaler.set_refusing(false);
    // The reports accepted after the outage carry all three requests, once. Usually the first
    // does; on a loaded machine a report may have been made between two of the requests and its
    // figures refused, tried again and taken, the third following in the next.
    double cur_perf = 0, new_load = 0;
    int64_t received = 0;
    REQUIRE(poll_until([&] {
        cur_perf = new_load = 0;
        const auto reports = bodies(autoscaler, "/worker_status/");
        for (std::size_t i = reports_before; i < reports.size(); ++i) {
            cur_perf += reports[i].at("cur_perf").to_number<double>();
            new_load += reports[i].at("new_load").to_number<double>();
            received = reports[i].at("num_requests_recieved").as_int64();
        }
        return cur_perf >= 15 && received == 3;
    }, 20s));
    CHECK(cur_perf == 15);
    CHECK(new_load == 15);
    // And every finished request is named to be deleted, once.
    std::multiset<int64_t> deleted;
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (deleted.size() < 3 && std::chrono::steady_clock::now() < deadline) {
        deleted.clear();
        for (const auto& b : bodies(autoscaler, "/delete_requests/")) {
            for (const auto& idx : b.at("request_idxs").as_array()) deleted.insert(idx.as_int64());
        }
        std::this_thread::sleep_for(50ms);
    }
    CHECK(deleted == std::multiset<int64_t>{100, 101, 102});
}

TEST_CASE("a missing CONTAINER_ID is a start-up error, beaconed to the autoscaler", "[integration][autoscaler]") {
    FakeHttpServer autoscaler(accept_all());
    auto env = vast_env(autoscaler.url());
    env.erase("CONTAINER_ID");
    auto [code, log] = WorkerProcess::run_to_exit(artifact(HELLO_WORLD_PLUGIN), {"--external-port", "1"}, env);
    CHECK(code == 1);
    CHECK_THAT(log, Catch::Contains("CONTAINER_ID"));
    const auto beacon = bodies(autoscaler, "/worker_status/");
    REQUIRE(beacon.size() == 1);
    CHECK_THAT(std::string(beacon[0].at("error_msg").as_string()), Catch::Contains("CONTAINER_ID"));
    CHECK(beacon[0].at("mtoken") == "tok");
}

TEST_CASE("an idle, loaded worker reports every 10 s", "[integration][autoscaler][slow]") {
    FakeHttpServer autoscaler(accept_all());
    WorkerProcess w(artifact(HELLO_WORLD_PLUGIN), {"--external-port", "1"}, vast_env(autoscaler.url()));
    REQUIRE(wait_for_body(autoscaler, "/worker_status/", [](const json::object& b) {
        return b.at("loadtime").as_double() > 0;
    }));
    // The loaded report and the two heartbeats after it, timed where they arrived. A busy machine
    // can only make the gaps longer, so the lower bound is the behaviour: nothing is reported
    // without a reason. The upper one only says the heartbeat comes (at 11 s on an idle machine):
    // a loaded one may starve the worker's timer for seconds.
    std::vector<std::chrono::steady_clock::time_point> loaded_reports;
    const auto deadline = std::chrono::steady_clock::now() + 80s;
    while (loaded_reports.size() < 3 && std::chrono::steady_clock::now() < deadline) {
        loaded_reports.clear();
        for (const auto& r : autoscaler.received()) {
            if (r.target == "/worker_status/" && json::parse(r.body).at("loadtime").as_double() > 0) {
                loaded_reports.push_back(r.arrived);
            }
        }
        std::this_thread::sleep_for(100ms);
    }
    REQUIRE(loaded_reports.size() >= 3);
    for (std::size_t i = 1; i < 3; ++i) {
        const std::chrono::duration<double> gap = loaded_reports[i] - loaded_reports[i - 1];
        INFO("heartbeat " << i << " came " << gap.count() << " s after the report before");
        CHECK(gap.count() >= 9.5);
        CHECK(gap.count() <= 30);
    }
}

TEST_CASE("an autoscaler that refuses reports is logged in plain words, once, then once more when back",
          "[integration][autoscaler]") {
    // One worker reports where nothing listens (the kernel refuses), the other to a peer that
    // accepts and hangs up; both retry every 2 s. Nobody sees the refused worker's tries but
    // itself, so it logs each one (at debug level, apart from the lines under test).
    const std::string nowhere = "http://127.0.0.1:" + std::to_string(refusing_port());
    WorkerProcess refused(artifact(HELLO_WORLD_PLUGIN), {"--external-port", "1", "--log-level", "debug"},
                          vast_env(nowhere));
    FakeHttpServer autoscaler(accept_all());
    autoscaler.set_refusing(true);
    WorkerProcess hung_up(artifact(HELLO_WORLD_PLUGIN), {"--external-port", "1"}, vast_env(autoscaler.url()));

    REQUIRE(refused.wait_for_log("Connection refused"));
    // Two rounds of three tries each, on both.
    const std::string refused_try = "POST " + nowhere + "/worker_status/ failed (try ";
    REQUIRE(poll_until([&] {
        return autoscaler.connections() >= 6 && count(refused.log(), refused_try + "3/3)") >= 2;
    }, 30s));
    const auto tries = autoscaler.connection_times();
    const auto hung_up_log = hung_up.log();
    const auto refused_log = refused.log();
    INFO("refused log:\n" << refused_log << "\nhung-up log:\n" << hung_up_log);
    for (const auto* log : {&refused_log, &hung_up_log}) {
        CHECK(log->find("/usr/include") == std::string::npos);
        CHECK(log->find(" at /") == std::string::npos);
        CHECK(log->find("[system:") == std::string::npos);
    }
    CHECK_THAT(refused_log, Catch::Contains("POST " + nowhere + "/worker_status/ failed: Connection refused"));
    // One line for the outage so far, not one per try (or per round).
    CHECK(count(hung_up_log, autoscaler.url() + "/worker_status/") == 1);
    CHECK(count(hung_up_log, "no autoscaler took") == 1);
    CHECK(count(refused_log, nowhere + "/worker_status/") - count(refused_log, refused_try) == 1);
    // Spaced as core/protocol.md §2.1 says: 2 s after each failed try (the third too), and the
    // next round a tick later, so six tries span 11 s. Taken where the tries land: a late accept
    // can shorten the gap after it, hence the margins; a worker that retried at once or sooner
    // than 2 s would fall well short of them.
    REQUIRE(tries.size() >= 6);
    for (std::size_t i = 1; i < 6; ++i) {
        const std::chrono::duration<double> gap = tries[i] - tries[i - 1];
        INFO("try " << i + 1 << " came " << gap.count() << " s after the one before");
        CHECK(gap.count() >= 1.5);
    }
    const std::chrono::duration<double> span = tries[5] - tries[0];
    CHECK(span.count() >= 9.5);

    autoscaler.set_refusing(false);
    CHECK(hung_up.wait_for_log("POST " + autoscaler.url() + "/worker_status/ works again, after ", 20s));
}
