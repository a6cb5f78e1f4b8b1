// --supervise: a master process runs the worker as its child, replaces it on SIGHUP without
// failing a request, and restarts it when a plugin crashes it.
//
// Workers are found as an operator finds them: by their title, "cppworker: worker (generation
// N)", among the master's children (tests/support/processes.hpp). One that has exited and is
// not yet reaped has no title any more, but counts are still polled until they settle.
#include "fake_http_server.hpp"
#include "http_client.hpp"
#include "processes.hpp"
#include "worker_process.hpp"

#include <catch2/catch.hpp>

#include <boost/json.hpp>
#include <boost/process/child.hpp>
#include <boost/process/env.hpp>
#include <boost/process/environment.hpp>
#include <boost/process/io.hpp>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

using namespace cppworker::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

struct TempDir {
    fs::path path;
    TempDir() {
        std::string pattern = (fs::temp_directory_path() / "cppworker-supervise-XXXXXX").string();
        REQUIRE(::mkdtemp(pattern.data()) != nullptr);
        path = pattern;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

// As an operator replaces a plugin: a copy under a temporary name, renamed into place, so that
// whoever opens the path gets the old file or the new one, never half of one.
void install(const std::string& from, const fs::path& to) {
    const auto tmp = to.string() + ".new";
    fs::copy_file(from, tmp, fs::copy_options::overwrite_existing);
    fs::rename(tmp, to);
}

bool poll_until(const std::function<bool()>& done, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(20ms);
    }
    return true;
}

std::string enveloped(int64_t idx, const std::string& payload) {
    return R"({"auth_data": {"cost": 1, "endpoint": "e", "reqnum": )" + std::to_string(idx) + R"(, "request_idx": )" +
           std::to_string(idx) + R"(, "signature": "-", "url": "u"}, "payload": )" + payload + "}";
}

std::map<std::string, std::string> vast_env(const std::string& report_addr) {
    return {{"REPORT_ADDR", report_addr}, {"CONTAINER_ID", "42"}, {"PUBLIC_IPADDR", "1.2.3.4"},
            {"MASTER_TOKEN", "tok"},      {"UNSECURED", "true"}};
}

std::vector<json::object> bodies(const FakeHttpServer& fake, const std::string& path) {
    std::vector<json::object> out;
    for (const auto& r : fake.received()) {
        if (r.target == path) out.push_back(json::parse(r.body).as_object());
    }
    return out;
}

FakeHttpServer::Answerer accept_all() {
    return [](const ReceivedRequest&) { return CannedAnswer{200, "{}"}; };
}

std::string version_answering(uint16_t port, int64_t idx) {
    const auto r = http(port, "POST", "/work", enveloped(idx, R"({"ms": 0})"));
    if (r.status != 200) return "status " + std::to_string(r.status);
    return std::string(json::parse(r.body).at("version").as_string());
}

}  // namespace

TEST_CASE("a reload under load fails no request, keeps a stream whole and leaves one worker with the new plugin",
          "[integration][supervisor]") {
    TempDir dir;
    const auto plugin = dir.path / "reloadable.so";
    install(artifact(RELOADABLE_V1_PLUGIN), plugin);
    FakeHttpServer autoscaler(accept_all());
    auto env = vast_env(autoscaler.url());
    env["CPPWORKER_RUN_DIR"] = dir.path.string();
    WorkerProcess w(plugin.string(), {"--supervise", "--external-port", "1"}, env);
    std::atomic<int64_t> next_idx{1};
    REQUIRE(version_answering(w.port(), next_idx++) == "1");

    // A stream of 5 s, begun before the first reload and still running after the second.
    auto stream = std::async(std::launch::async, [&] {
        HttpConnection c(w.port(), 30s);
        c.send_raw([&] {
            const auto body = enveloped(next_idx++, R"({"chunks": 50, "interval_ms": 100})");
            return "POST /stream HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
                   std::to_string(body.size()) + "\r\n\r\n" + body;
        }());
        return c.read_stream();
    });
    REQUIRE(w.wait_for_log("reloadable 1: stream started"));

    // Hundreds of requests in flight at any moment, each on a connection of its own, until the
    // second reload is complete.
    std::atomic<bool> stop_load{false};
    std::atomic<int64_t> succeeded{0};
    std::mutex failures_mutex;
    std::vector<std::string> failures;
    std::vector<std::thread> clients;
    for (int t = 0; t < 200; ++t) {
        clients.emplace_back([&] {
            while (!stop_load) {
                const auto idx = next_idx++;
                try {
                    const auto r = http(w.port(), "POST", "/work", enveloped(idx, R"({"ms": 100})"));
                    if (r.status == 200) {
                        ++succeeded;
                        continue;
                    }
                    std::lock_guard lock(failures_mutex);
                    failures.push_back("request " + std::to_string(idx) + ": status " + std::to_string(r.status));
                } catch (const std::exception& e) {
                    std::lock_guard lock(failures_mutex);
                    failures.push_back("request " + std::to_string(idx) + ": " + e.what());
                }
            }
        });
    }
    const auto join_clients = [&] {
        stop_load = true;
        for (auto& c : clients) {
            if (c.joinable()) c.join();
        }
    };
    struct Joiner {
        std::function<void()> join;
        ~Joiner() { join(); }
    } joiner{join_clients};
    REQUIRE(poll_until([&] { return succeeded >= 300; }, 20s));

    // Reload 1: the operator's way, launch/reload.sh, which finds the master by WORKER_PORT.
    install(artifact(RELOADABLE_V2_PLUGIN), plugin);
    {
        auto script_env = boost::this_process::environment();
        script_env["WORKER_PORT"] = std::to_string(w.port());
        script_env["CPPWORKER_RUN_DIR"] = dir.path.string();
        boost::process::child script(std::string(CPPWORKER_SOURCE_DIR) + "/launch/reload.sh", script_env,
                                     boost::process::std_out > boost::process::null);
        script.wait();
        REQUIRE(script.exit_code() == 0);
    }
    REQUIRE(w.wait_for_log("reload 1: worker pid", 20s));
    REQUIRE(poll_until([&] { return version_answering(w.port(), next_idx++) == "2"; }, 10s));

    // Reload 2: SIGHUP to the process that was started, while the first old worker still drains
    // the stream.
    install(artifact(RELOADABLE_V1_PLUGIN), plugin);
    ::kill(w.pid(), SIGHUP);
    REQUIRE(w.wait_for_log("reload 2: worker pid", 20s));
    REQUIRE(poll_until([&] { return version_answering(w.port(), next_idx++) == "1"; }, 10s));

    const auto streamed = stream.get();
    CHECK(streamed.head.status == 200);
    CHECK(streamed.complete);
    std::string expected;
    for (int i = 0; i < 50; ++i) expected += std::to_string(i) + "\n";
    CHECK(streamed.body == expected);

    REQUIRE(w.wait_for_log("reload 1 complete", 20s));
    REQUIRE(w.wait_for_log("reload 2 complete", 20s));
    const auto load_end = succeeded.load();
    REQUIRE(poll_until([&] { return succeeded >= load_end + 200; }, 20s));  // traffic flows on after both
    join_clients();
    INFO("worker log:\n" << w.log());
    {
        std::lock_guard lock(failures_mutex);
        std::string first_failures;
        for (std::size_t i = 0; i < std::min<std::size_t>(failures.size(), 10); ++i) first_failures += failures[i] + "\n";
        INFO(failures.size() << " failed, the first:\n" << first_failures);
        CHECK(failures.empty());
    }
    CHECK(succeeded > 1000);

    // One worker left, of the second reload, and it serves the plugin installed last.
    CHECK(poll_until([&] {
        const auto workers = workers_of(w.pid());
        return workers.size() == 1 && workers.front().generation == 2;
    }, 10s));
    CHECK(version_answering(w.port(), next_idx++) == "1");
    const auto log = w.log();
    CHECK(count(log, "reloadable 1 up") == 2);
    CHECK(count(log, "reloadable 2 up") == 1);
    CHECK(count(log, "benchmark: using the cached result") == 2);

    // One continuous series for the autoscaler: the same worker id throughout, the received count
    // never going back, and every request counted once: in the sums, and in /delete_requests/.
    const auto total = next_idx - 1;
    REQUIRE(poll_until([&] {
        const auto reports = bodies(autoscaler, "/worker_status/");
        return !reports.empty() && reports.back().at("num_requests_recieved").as_int64() == total &&
               reports.back().at("num_requests_working").as_int64() == 0;
    }, 20s));
    std::set<int64_t> deleted;
    std::size_t delete_entries = 0;
    REQUIRE(poll_until([&] {
        deleted.clear();
        delete_entries = 0;
        for (const auto& b : bodies(autoscaler, "/delete_requests/")) {
            CHECK(b.at("worker_id") == 42);
            CHECK(b.at("success") == true);
            for (const auto& idx : b.at("request_idxs").as_array()) {
                deleted.insert(idx.as_int64());
                ++delete_entries;
            }
        }
        return static_cast<int64_t>(deleted.size()) == total;
    }, 20s));
    CHECK(delete_entries == deleted.size());
    int64_t received_before = 0;
    double new_load = 0, cur_perf = 0;
    const auto reports = bodies(autoscaler, "/worker_status/");
    REQUIRE(!reports.empty());
    for (const auto& r : reports) {
        CHECK(r.at("id") == 42);
        const auto received = r.at("num_requests_recieved").as_int64();
        CHECK(received >= received_before);
        received_before = received;
        new_load += r.at("new_load").to_number<double>();
        cur_perf += r.at("cur_perf").to_number<double>();
    }
    CHECK(new_load == static_cast<double>(total));
    CHECK(cur_perf == static_cast<double>(total));
}

// The release build's figure; a sanitizer's worker takes several times longer to start, more so
// on a loaded machine (2.2 s seen under ASan while another build ran).
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr auto restart_limit = 10s;
#else
constexpr auto restart_limit = 2s;
#endif

TEST_CASE("a worker killed by its plugin serves again within 2 s and the autoscaler hears of the crash",
          "[integration][supervisor]") {
    FakeHttpServer autoscaler(accept_all());
    WorkerProcess w(artifact(ZOO_SEGFAULTS_PLUGIN), {"--supervise", "--external-port", "1"}, vast_env(autoscaler.url()));
    REQUIRE(http(w.port(), "POST", "/ok", "{}").status == 200);
    const auto workers_before = workers_of(w.pid());
    REQUIRE(workers_before.size() == 1);

    CHECK_THROWS(http(w.port(), "POST", "/crash", "{}"));
    // Connections made while no worker runs wait in the master's backlog for the next one.
    CHECK(http(w.port(), "POST", "/ok", "{}").status == 200);
    // From the master's line on the crash to its line on the new worker serving, by the log's own
    // clock: the time the test waited for its processes to be scheduled is no part of it.
    REQUIRE(w.wait_for_log("serves again", 20s));
    const auto crashed = w.log_time("killed by signal 11 (SIGSEGV)");
    const auto serving = w.log_time("serves again");
    REQUIRE(crashed);
    REQUIRE(serving);
    INFO("served again " << std::chrono::duration<double>(*serving - *crashed).count() << " s after the crash");
    CHECK(*serving - *crashed < restart_limit);

    std::optional<json::object> told;
    REQUIRE(poll_until([&] {
        for (auto& b : bodies(autoscaler, "/worker_status/")) {
            if (b.at("error_msg") == "worker process killed by signal 11 (SIGSEGV)") told = b;
        }
        return told.has_value();
    }, 20s));
    CHECK(told->at("id") == 42);
    // Once the new worker is loaded and the crash was told, it reports healthy again.
    CHECK(poll_until([&] {
        const auto reports = bodies(autoscaler, "/worker_status/");
        return reports.back().at("error_msg") == "" && reports.back().at("loadtime").as_double() > 0 &&
               std::any_of(reports.begin(), reports.end(), [](const json::object& b) { return b.at("error_msg") != ""; });
    }, 20s));
    // Its replacement keeps the generation: it was no reload.
    const auto workers_after = workers_of(w.pid());
    REQUIRE(workers_after.size() == 1);
    CHECK(workers_after.front().pid != workers_before.front().pid);
    CHECK(workers_after.front().generation == 0);
}

TEST_CASE("crashes that repeat are restarted later each time and the fifth within a minute gives up",
          "[integration][supervisor]") {
    FakeHttpServer autoscaler(accept_all());
    WorkerProcess w(artifact(ZOO_SEGFAULTS_PLUGIN), {"--supervise", "--external-port", "1"}, vast_env(autoscaler.url()));
    for (int crash = 1; crash <= 5; ++crash) {
        // Waits out the back-off: 0, 0.5, 1 and 2 s.
        REQUIRE(http(w.port(), "POST", "/ok", "{}").status == 200);
        CHECK_THROWS(http(w.port(), "POST", "/crash", "{}"));
    }
    CHECK(w.wait_exit(20s) == 1);
    const auto log = w.log();
    CHECK_THAT(log, Catch::Contains("starting a new worker at once") && Catch::Contains("in 500 ms") &&
                        Catch::Contains("in 1000 ms") && Catch::Contains("in 2000 ms"));
    CHECK_THAT(log, Catch::Contains("crashed 5 times within 60 s"));
    CHECK(poll_until([&] {
        for (auto& b : bodies(autoscaler, "/worker_status/")) {
            const std::string msg(b.at("error_msg").as_string());
            if (msg.find("crashed 5 times within 60 s, the last time killed by signal 11 (SIGSEGV)") != std::string::npos) {
                return true;
            }
        }
        return false;
    }, 10s));
}

TEST_CASE("a reload whose plugin cannot load leaves the running worker serving", "[integration][supervisor]") {
    TempDir dir;
    const auto plugin = dir.path / "reloadable.so";
    install(artifact(RELOADABLE_V1_PLUGIN), plugin);
    WorkerProcess w(plugin.string(), {"--supervise"}, {{"UNSECURED", "true"}, {"CPPWORKER_RUN_DIR", dir.path.string()}});
    REQUIRE(version_answering(w.port(), 1) == "1");
    install(artifact(ZOO_BAD_MAGIC_PLUGIN), plugin);
    ::kill(w.pid(), SIGHUP);
    REQUIRE(w.wait_for_log("reload 1 failed"));
    CHECK(version_answering(w.port(), 2) == "1");
    CHECK(poll_until([&] { return workers_of(w.pid()).size() == 1; }, 10s));
}

TEST_CASE("ps and pgrep tell the master and its workers apart, each worker with its reload generation",
          "[integration][supervisor]") {
    TempDir dir;
    const auto plugin = dir.path / "reloadable.so";
    install(artifact(RELOADABLE_V1_PLUGIN), plugin);
    WorkerProcess w(plugin.string(), {"--supervise"}, {{"UNSECURED", "true"}, {"CPPWORKER_RUN_DIR", dir.path.string()}});
    REQUIRE(version_answering(w.port(), 1) == "1");
    const auto master = std::to_string(w.pid());
    auto workers = workers_of(w.pid());
    REQUIRE(workers.size() == 1);
    const auto first = std::to_string(workers.front().pid);
    CHECK(workers.front().name == "cppworker");  // not "exe", as /proc/self/exe would name it
    CHECK(workers.front().generation == 0);

    // pgrep by name finds both (among whatever else runs here); by title, the worker alone.
    const auto lines = [](const std::string& text) {
        std::set<std::string> out;
        std::istringstream in(text);
        for (std::string line; std::getline(in, line);) out.insert(line);
        return out;
    };
    const auto named = lines(command_output({"pgrep", "-x", "cppworker"}));
    CHECK(named.contains(master));
    CHECK(named.contains(first));
    const auto titled = lines(command_output({"pgrep", "-f", "^cppworker: worker"}));
    CHECK(titled.contains(first));
    CHECK_FALSE(titled.contains(master));
    CHECK(command_output({"ps", "-o", "args=", "-p", first}).starts_with("cppworker: worker (generation 0) "));
    CHECK_FALSE(command_output({"ps", "-o", "args=", "-p", master}).starts_with("cppworker:"));

    // After a reload the worker left is of generation 1, as its title says.
    install(artifact(RELOADABLE_V2_PLUGIN), plugin);
    ::kill(w.pid(), SIGHUP);
    REQUIRE(w.wait_for_log("reload 1 complete", 20s));
    REQUIRE(poll_until([&] { return workers_of(w.pid()).size() == 1; }, 10s));
    workers = workers_of(w.pid());
    CHECK(workers.front().generation == 1);
    CHECK(std::to_string(workers.front().pid) != first);
    CHECK(lines(command_output({"pgrep", "-f", "^cppworker: worker \\(generation 1\\)"}))
              .contains(std::to_string(workers.front().pid)));
    CHECK(version_answering(w.port(), 2) == "2");
}
