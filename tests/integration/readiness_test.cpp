// Readiness from the model log, the benchmark and its cache, and the health probe (core/protocol.md §8).
#include "fake_http_server.hpp"
#include "http_client.hpp"
#include "worker_process.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

using namespace cppworker::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {
// A scratch folder for a model log and a benchmark cache, removed afterwards.
struct Scratch {
    fs::path dir = fs::temp_directory_path() / ("cppworker-readiness-" + std::to_string(::getpid()) + "-" +
                                                std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
    Scratch() { fs::create_directories(dir); }
    ~Scratch() { fs::remove_all(dir); }
    fs::path log() const { return dir / "model.log"; }
    void append(const std::string& line) const { std::ofstream(log(), std::ios::app) << line << "\n"; }
};

double max_perf(uint16_t port) {
    const auto body = http(port, "GET", "/metrics").body;
    const auto at = body.find("\ncppworker_max_perf ");
    return at == std::string::npos ? -1 : std::stod(body.substr(at + 20));
}
}  // namespace

TEST_CASE("the model's log lines drive readiness: info, loaded, benchmark, health", "[integration][readiness]") {
    Scratch scratch;
    FakeHttpServer model([](const ReceivedRequest& r) {
        return r.target == "/health" ? CannedAnswer{200, "ok"} : CannedAnswer{404, ""};
    });
    scratch.append("Downloading shard 1/2");
    WorkerProcess w(artifact(TESTKIT_PLUGIN), {},
                    {{"MODEL_LOG", scratch.log().string()}, {"MODEL_SERVER_URL", model.url()}});
    REQUIRE(w.wait_for_log("Info from model logs: Downloading shard 1/2"));
    CHECK(http(w.port(), "GET", "/readyz").status == 503);

    scratch.append("2026-11-29T10:00:00 MODEL LOADED in 3.2s");
    CHECK(wait_ready(w.port(), 200));
    CHECK(w.log().find("benchmark: max_perf") != std::string::npos);
    CHECK(max_perf(w.port()) > 0);
    CHECK_FALSE(model.received().empty());  // the health probe
}

TEST_CASE("an error line in the model log makes the worker errored", "[integration][readiness]") {
    Scratch scratch;
    FakeHttpServer autoscaler([](const ReceivedRequest&) { return CannedAnswer{200, "{}"}; });
    scratch.append("MODEL LOADED");
    WorkerProcess w(artifact(TESTKIT_PLUGIN), {"--external-port", "1"},
                    {{"MODEL_LOG", scratch.log().string()}, {"REPORT_ADDR", autoscaler.url()}, {"CONTAINER_ID", "3"},
                     {"PUBLIC_IPADDR", "1.2.3.4"}, {"UNSECURED", "true"}});
    REQUIRE(wait_ready(w.port(), 200));
    scratch.append("RuntimeError: MODEL CRASHED (out of memory)");
    CHECK(wait_ready(w.port(), 503, 5s));
    CHECK(w.wait_for_log("model log error: RuntimeError: MODEL CRASHED"));
    // PyWorker reports the pattern, not the line; the heartbeat brings it within about 11 s (the
    // wait is longer: what is under test is that it comes, and a loaded machine delays it).
    bool reported = false;
    const auto deadline = std::chrono::steady_clock::now() + 40s;
    while (!reported && std::chrono::steady_clock::now() < deadline) {
        for (const auto& r : autoscaler.received()) {
            reported = reported || r.body.find(R"("error_msg": "MODEL CRASHED")") != std::string::npos;
        }
        std::this_thread::sleep_for(100ms);
    }
    CHECK(reported);
}

TEST_CASE("a rotated model log is followed into the new file", "[integration][readiness]") {
    Scratch scratch;
    scratch.append("Downloading, before the rotation");
    WorkerProcess w(artifact(TESTKIT_PLUGIN), {}, {{"MODEL_LOG", scratch.log().string()}});
    // The old file is being read before it is rotated away.
    REQUIRE(w.wait_for_log("Info from model logs: Downloading, before the rotation"));
    fs::rename(scratch.log(), scratch.dir / "model.log.old");
    scratch.append("MODEL LOADED after restart");
    CHECK(wait_ready(w.port(), 200));
}

TEST_CASE("a cached benchmark is not run again", "[integration][readiness]") {
    Scratch scratch;
    const auto cache = (scratch.dir / "has_benchmark").string();
    double first = 0;
    {
        WorkerProcess w(artifact(HELLO_WORLD_PLUGIN), {}, {{"BENCHMARK_CACHE", cache}});
        REQUIRE(wait_ready(w.port(), 200));
        first = max_perf(w.port());
        CHECK(first > 0);
    }
    REQUIRE(fs::exists(cache));
    WorkerProcess again(artifact(HELLO_WORLD_PLUGIN), {}, {{"BENCHMARK_CACHE", cache}});
    REQUIRE(wait_ready(again.port(), 200));
    CHECK(again.log().find("using the cached result") != std::string::npos);
    CHECK(again.log().find("benchmark run 1") == std::string::npos);
    CHECK(max_perf(again.port()) == Approx(first));
}

TEST_CASE("a benchmark without a single success is an error", "[integration][readiness]") {
    Scratch scratch;
    const auto cache = scratch.dir / "has_benchmark";
    WorkerProcess w(artifact(TESTKIT_PLUGIN), {}, {{"TESTKIT_BENCHMARK_FAILS", "1"}, {"BENCHMARK_CACHE", cache.string()}});
    CHECK(w.wait_for_log("with error: No successful responses from benchmark"));
    CHECK(http(w.port(), "GET", "/readyz").status == 503);
    CHECK_FALSE(fs::exists(cache));
}

TEST_CASE("a health probe that fails after the model was healthy is an error", "[integration][readiness][slow]") {
    Scratch scratch;
    std::atomic<int> probes{0};
    FakeHttpServer model([&](const ReceivedRequest&) {
        return ++probes == 1 ? CannedAnswer{200, "ok"} : CannedAnswer{503, "down"};
    });
    scratch.append("MODEL LOADED");
    WorkerProcess w(artifact(TESTKIT_PLUGIN), {},
                    {{"MODEL_LOG", scratch.log().string()}, {"MODEL_SERVER_URL", model.url()}});
    REQUIRE(wait_ready(w.port(), 200));
    // The next probe, 10 s later, fails (waited for with room for a loaded machine).
    CHECK(wait_ready(w.port(), 503, 40s));
    CHECK(w.wait_for_log("Healthcheck failed with status: 503"));
}
