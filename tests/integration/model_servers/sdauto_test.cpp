// The sdauto plugin in front of the fake Stable Diffusion web UI (tests/fakes/fake_sdauto.py),
// through the real worker: txt2img and img2img relayed, the workload, 422s, one job at a time,
// readiness and the benchmark.
#include "fake_model_server.hpp"
#include "http_client.hpp"
#include "worker_process.hpp"

#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include <filesystem>
#include <fstream>
#include <future>
#include <cstdio>
#include <map>
#include <memory>
#include <thread>

using namespace cppworker::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {
// 100 per 512x512 image of 20 steps, plus 1.33 a prompt word (Vast's sdauto formula).
double expected_workload(double pixels_x_steps, double words = 0) {
    return 100 * (pixels_x_steps + 1.33 * words) / (512.0 * 512 * 20);
}

// The smallest PNG there is, base64: enough for A1111's (and the fake's) decoder.
constexpr const char* tiny_png =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";
}  // namespace

TEST_CASE("sdauto: txt2img answers with A1111's images, sized by pixels x steps", "[integration][sdauto]") {
    FakeModelServer fake("sdauto", {"--token-delay", "0.002"});
    CachedBenchmark cache;
    REQUIRE(fake.wait_loaded());
    WorkerProcess w(artifact(SDAUTO_PLUGIN), {}, env_for(fake, cache));

    const std::string body = R"({"prompt": "a red fox", "width": 256, "height": 128, "steps": 10, "batch_size": 2})";
    const auto res = http(w.port(), "POST", "/sdapi/v1/txt2img", body);
    REQUIRE(res.status == 200);
    const auto answer = json::parse(res.body).as_object();
    CHECK(answer.at("images").as_array().size() == 2);
    CHECK(answer.at("parameters").at("width") == 256);
    const auto stats = fake.stats();
    CHECK(stats.at("last_path") == "/sdapi/v1/txt2img");
    CHECK(stats.at("last_body") == json::parse(body));
    CHECK(metric(w.port(), "cppworker_workload_total{outcome=\"served\"}") ==
          Approx(expected_workload(2 * 256 * 128 * 10, 3)));

    // A1111's own defaults for an empty body: 512x512, 50 steps.
    REQUIRE(http(w.port(), "POST", "/sdapi/v1/txt2img", "{}").status == 200);
    CHECK(metric(w.port(), "cppworker_workload_total{outcome=\"served\"}") ==
          Approx(expected_workload(2 * 256 * 128 * 10, 3) + 250));
}

TEST_CASE("sdauto: img2img is relayed and samples steps x denoising_strength", "[integration][sdauto]") {
    FakeModelServer fake("sdauto", {"--token-delay", "0.002"});
    CachedBenchmark cache;
    REQUIRE(fake.wait_loaded());
    WorkerProcess w(artifact(SDAUTO_PLUGIN), {}, env_for(fake, cache));

    const std::string body = std::string(R"({"init_images": [")") + tiny_png + R"("], "steps": 20, "width": 512, "height": 512})";
    const auto res = http(w.port(), "POST", "/sdapi/v1/img2img", body);
    REQUIRE(res.status == 200);
    CHECK(json::parse(res.body).as_object().at("images").as_array().size() == 1);
    CHECK(fake.stats().at("last_path") == "/sdapi/v1/img2img");
    // Strength 0.75 by default: 15 of the 20 steps.
    CHECK(metric(w.port(), "cppworker_workload_total{outcome=\"served\"}") == Approx(75));
}

TEST_CASE("sdauto: bad payloads get 422 and never reach the web UI", "[integration][sdauto]") {
    FakeModelServer fake("sdauto", {"--token-delay", "0"});
    CachedBenchmark cache;
    REQUIRE(fake.wait_loaded());
    WorkerProcess w(artifact(SDAUTO_PLUGIN), {}, env_for(fake, cache));

    const auto no_images = http(w.port(), "POST", "/sdapi/v1/img2img", R"({"prompt": "a cat"})");
    CHECK(no_images.status == 422);
    CHECK_THAT(no_images.body, Catch::Contains("init_images"));
    const auto wide = http(w.port(), "POST", "/sdapi/v1/txt2img", R"({"width": "wide"})");
    CHECK(wide.status == 422);
    CHECK_THAT(wide.body, Catch::Contains("width"));
    CHECK(http(w.port(), "POST", "/sdapi/v1/txt2img", R"({"steps": 0})").status == 422);
    CHECK(http(w.port(), "POST", "/sdapi/v1/txt2img", R"({"prompt": 5})").status == 422);
    CHECK(stat(fake.stats(), "requests") == 0);

    // What only A1111 can judge is its to answer, passed through.
    const auto sampler = http(w.port(), "POST", "/sdapi/v1/txt2img", R"({"steps": 1, "sampler_name": "Nope"})");
    CHECK(sampler.status == 404);
    CHECK(json::parse(sampler.body).as_object().at("detail") == "Sampler not found");
}

TEST_CASE("sdauto: jobs reach the web UI one at a time", "[integration][sdauto]") {
    FakeModelServer fake("sdauto", {"--token-delay", "0.02"});
    CachedBenchmark cache;
    REQUIRE(fake.wait_loaded());
    WorkerProcess w(artifact(SDAUTO_PLUGIN), {}, env_for(fake, cache));
    // Queueing needs a max_perf (max_queue_time): the cached benchmark's, once the worker is ready.
    REQUIRE(wait_ready(w.port(), 200));

    const std::string body = R"({"prompt": "a cat", "width": 64, "height": 64, "steps": 15})";  // 0.3 s each
    std::vector<std::future<HttpResponse>> answers;
    for (int i = 0; i < 3; ++i) {
        answers.push_back(std::async(std::launch::async, [&] { return http(w.port(), "POST", "/sdapi/v1/txt2img", body); }));
    }
    for (auto& a : answers) CHECK(a.get().status == 200);
    const auto stats = fake.stats();
    CHECK(stat(stats, "requests") == 3);
    // Jobs, not handlers: a handler still finishing its write after the worker has the answer
    // (and has sent the next job on another connection) is no second job at the web UI.
    CHECK(stat(stats, "jobs_max") == 1);
}

TEST_CASE("sdauto: ready after A1111's Model loaded line and a txt2img benchmark", "[integration][sdauto][readiness]") {
    FakeModelServer fake("sdauto", {"--token-delay", "0.002", "--load-delay", "0.5"});
    WorkerProcess w(artifact(SDAUTO_PLUGIN), {},
                    {{"UNSECURED", "true"}, {"MODEL_SERVER_URL", fake.url()}, {"MODEL_LOG", fake.log_path().string()}});
    CHECK(http(w.port(), "GET", "/readyz").status == 503);
    REQUIRE(wait_ready(w.port(), 200));
    CHECK(w.log().find("model log says loaded: Model loaded in 4.2s") != std::string::npos);
    CHECK(w.log().find("Info from model logs: Loading weights") != std::string::npos);
    // A warm-up and 3 runs of one request, each a 512x512, 20-step txt2img.
    const auto stats = fake.stats();
    CHECK(path_count(stats, "/sdapi/v1/txt2img") == 1 + 3);
    const auto& last = stats.at("last_body").as_object();
    CHECK(last.at("steps") == 20);
    CHECK(last.at("width") == 512);
    CHECK(stat(stats, "other_requests") >= 1);  // the health probe on /sdapi/v1/progress
    CHECK(metric(w.port(), "cppworker_max_perf") > 0);

    // A traceback from a failed request is not a dead model: still ready.
    fake.append_log("Traceback (most recent call last):");
    fake.append_log("RuntimeError: CUDA out of memory.");
    // Lines are read in order: once the line after them is seen, so were they.
    fake.append_log("Downloading after the traceback");
    REQUIRE(w.wait_for_log("Info from model logs: Downloading after the traceback"));
    CHECK(http(w.port(), "GET", "/readyz").status == 200);
}

TEST_CASE("sdauto: a checkpoint that fails to load keeps the worker unready", "[integration][sdauto][readiness]") {
    FakeModelServer fake("sdauto", {"--fail-start", "--load-delay", "0.1"});
    CachedBenchmark cache;
    auto env = env_for(fake, cache);
    env["MODEL_LOG"] = fake.log_path().string();
    WorkerProcess w(artifact(SDAUTO_PLUGIN), {}, env);
    REQUIRE(w.wait_for_log("model log error: Stable diffusion model failed to load"));
    check_error_outlives_loading(w, fake);
}

namespace {
std::string txt2img_request(const std::string& body) {
    return "POST /sdapi/v1/txt2img HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body;
}
double seconds_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}
}  // namespace

TEST_CASE("sdauto: a client leaving a running txt2img has A1111 interrupt it, and the next job starts",
          "[integration][sdauto][cancel]") {
    FakeModelServer fake("sdauto", {"--token-delay", "0.05"});
    CachedBenchmark cache;
    REQUIRE(fake.wait_loaded());
    WorkerProcess w(artifact(SDAUTO_PLUGIN), {}, env_for(fake, cache));
    REQUIRE(wait_ready(w.port(), 200));
    fake.reset_stats();

    // 400 steps: 20 s if A1111 rendered it to the end for nobody.
    auto leaving = std::make_unique<HttpConnection>(w.port());
    leaving->send_raw(txt2img_request(R"({"prompt": "a slow cat", "width": 64, "height": 64, "steps": 400})"));
    REQUIRE(fake.wait_for([](const json::object& s) { return stat(s, "requests") == 1; }, 10s));
    auto next = std::async(std::launch::async, [&] {
        return http(w.port(), "POST", "/sdapi/v1/txt2img", R"({"prompt": "a quick dog", "width": 64, "height": 64, "steps": 4})");
    });
    REQUIRE(wait_metric(w.port(), "cppworker_queued_requests", 1, 10s));

    const auto left = std::chrono::steady_clock::now();
    leaving.reset();
    const auto interrupted = [](const json::object& s) {
        return path_count(s, "/sdapi/v1/interrupt") == 1;
    };
    // Bounds far above what it takes (the figures are printed; tenths of a second on an idle
    // machine) and far below the 20 s of the job, which is what tells an interrupt from a job
    // that ran to its end: a loaded machine must not fail them.
    REQUIRE(fake.wait_for(interrupted, 10s));
    const double interrupt_s = seconds_since(left);
    const auto res = next.get();
    const double next_done_s = seconds_since(left);
    std::printf("sdauto cancel: interrupt %.3f s after the client left, next job answered after %.3f s\n", interrupt_s,
                next_done_s);
    CHECK(interrupt_s < 10.0);
    CHECK(res.status == 200);
    CHECK(next_done_s < 15.0);
    // The next job was sent the moment the first was given up, and waited behind A1111's lock
    // only until the interrupt stopped it: both were at A1111 (jobs_max 2) for that instant.
    CHECK(wait_metric(w.port(), "cppworker_requests_total{outcome=\"cancelled\"}", 1, 10s));
    CHECK(w.wait_for_log("A1111 interrupted", 10s));
}

TEST_CASE("sdauto: a job whose client leaves while it is queued never reaches A1111",
          "[integration][sdauto][cancel]") {
    FakeModelServer fake("sdauto", {"--token-delay", "0.02"});
    CachedBenchmark cache;
    REQUIRE(fake.wait_loaded());
    WorkerProcess w(artifact(SDAUTO_PLUGIN), {}, env_for(fake, cache));
    REQUIRE(wait_ready(w.port(), 200));
    fake.reset_stats();

    auto running = std::async(std::launch::async, [&] {
        return http(w.port(), "POST", "/sdapi/v1/txt2img", R"({"prompt": "a cat", "width": 64, "height": 64, "steps": 50})");
    });
    REQUIRE(fake.wait_for([](const json::object& s) { return stat(s, "requests") == 1; }, 10s));
    {
        HttpConnection queued(w.port());
        queued.send_raw(txt2img_request(R"({"prompt": "never", "width": 64, "height": 64, "steps": 50})"));
        REQUIRE(wait_metric(w.port(), "cppworker_queued_requests", 1, 10s));
    }
    CHECK(wait_metric(w.port(), "cppworker_requests_total{outcome=\"cancelled\"}", 1, 10s));
    CHECK(running.get().status == 200);
    // A job sent after it, answered: one at a time and in order, so the job that was left would
    // have reached A1111 before this one, had it stayed in the queue.
    const auto after = http(w.port(), "POST", "/sdapi/v1/txt2img",
                            R"({"prompt": "after", "width": 64, "height": 64, "steps": 2})");
    CHECK(after.status == 200);
    const auto stats = fake.stats();
    CHECK(stat(stats, "requests") == 2);
    CHECK(stats.at("last_body").at("prompt") == "after");
    // Nothing was running for it at A1111, so there was nothing to interrupt.
    CHECK(path_count(stats, "/sdapi/v1/interrupt") == 0);
}
