// The comfyui plugin in front of the fake ComfyUI + API wrapper (tests/fakes/fake_comfyui.py),
// through the real worker: the wrapper's /generate/sync relayed, plain ComfyUI's /prompt submitted
// and polled, workload from the workflow, 422s, timeouts, readiness and the benchmark.
#include "fake_model_server.hpp"
#include "http_client.hpp"
#include "worker_process.hpp"

#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <cstdio>
#include <future>
#include <map>
#include <memory>
#include <thread>
#include <vector>

using namespace cppworker::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {
json::object txt2img(int width, int height, int steps, int batch) {
    return json::object{
        {"3", {{"class_type", "KSampler"}, {"inputs", {{"steps", steps}, {"seed", 7}, {"latent_image", json::array{"5", 0}}}}}},
        {"5", {{"class_type", "EmptyLatentImage"}, {"inputs", {{"width", width}, {"height", height}, {"batch_size", batch}}}}},
        {"9", {{"class_type", "SaveImage"}, {"inputs", {{"filename_prefix", "t"}, {"images", json::array{"8", 0}}}}}},
    };
}

std::string wrapper_body(const json::object& workflow) {
    return json::serialize(json::object{{"input", {{"workflow_json", workflow}}}});
}
std::string prompt_body(const json::object& workflow) { return json::serialize(json::object{{"prompt", workflow}}); }

// PyWorker Gen 2's image tokens, normalised to 200 for 1024x1024 at 28 steps, written out again
// here so the test does not lean on the plugin's own arithmetic.
double expected_workload(double w, double h, double steps, double batch) {
    const auto tokens = [](double w, double h, double s) {
        return (85 + 175 * std::ceil(w / 512) * std::ceil(h / 512)) * (0.61 * s + 6.57);
    };
    return 200 * batch * tokens(w, h, steps) / tokens(1024, 1024, 28);
}

// Waits until ComfyUI runs a prompt.
bool wait_running(const FakeModelServer& fake) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
        if (!json::parse(http(fake.port(), "GET", "/queue").body).at("queue_running").as_array().empty()) return true;
        std::this_thread::sleep_for(20ms);
    }
    return false;
}

// Waits until ComfyUI's queue holds `n` prompts waiting behind the running one.
bool wait_pending(const FakeModelServer& fake, std::size_t n) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
        if (json::parse(http(fake.port(), "GET", "/queue").body).at("queue_pending").as_array().size() == n) return true;
        std::this_thread::sleep_for(20ms);
    }
    return false;
}

// ComfyUI's history entry for prompt `id`; empty while it has none (the prompt has not ended).
json::object history_of(const FakeModelServer& fake, const std::string& id) {
    const auto all = json::parse(http(fake.port(), "GET", "/history/" + id).body).as_object();
    const auto* entry = all.if_contains(id);
    return entry != nullptr ? entry->as_object() : json::object();
}

// How often the plugin asked for each prompt's history so far, by prompt id.
std::map<std::string, std::int64_t> history_polls(const FakeModelServer& fake) {
    std::map<std::string, std::int64_t> polls;
    const auto stats = fake.stats();
    for (const auto& [path, n] : stats.at("paths").as_object()) {
        if (path.starts_with("/history/")) polls[std::string(path.substr(9))] = n.to_number<std::int64_t>();
    }
    return polls;
}
}  // namespace

TEST_CASE("comfyui: /generate/sync relays the wrapper's answer, sized from the workflow", "[integration][comfyui]") {
    FakeModelServer fake("comfyui", {"--token-delay", "0.005"});
    CachedBenchmark cache;
    REQUIRE(fake.wait_loaded());
    WorkerProcess w(artifact(COMFYUI_PLUGIN), {}, env_for(fake, cache));

    const auto res = http(w.port(), "POST", "/generate/sync", wrapper_body(txt2img(768, 512, 10, 2)));
    REQUIRE(res.status == 200);
    const auto answer = json::parse(res.body).as_object();
    CHECK(answer.at("status") == "completed");
    CHECK(answer.at("output").as_array().size() == 2);
    auto stats = fake.stats();
    CHECK(stats.at("last_path") == "/generate/sync");
    CHECK(stats.at("last_body") == json::parse(wrapper_body(txt2img(768, 512, 10, 2))));
    CHECK(metric(w.port(), "cppworker_workload_total{outcome=\"served\"}") == Approx(expected_workload(768, 512, 10, 2)));

    // The wrapper's own modifier, sized from its modifications.
    const auto modified = http(w.port(), "POST", "/generate/sync",
                               R"({"input": {"modifier": "Text2Image", "modifications": {"prompt": "a fox",
                                   "width": 512, "height": 512, "steps": 4}}})");
    CHECK(modified.status == 200);
    CHECK(metric(w.port(), "cppworker_workload_total{outcome=\"served\"}") ==
          Approx(expected_workload(768, 512, 10, 2) + expected_workload(512, 512, 4, 1)));

    // A workflow ComfyUI refuses: the wrapper's failed result, its 500 passed through.
    json::object no_output = txt2img(512, 512, 2, 1);
    no_output.erase("9");
    const auto refused = http(w.port(), "POST", "/generate/sync", wrapper_body(no_output));
    CHECK(refused.status == 500);
    CHECK(json::parse(refused.body).as_object().at("status") == "failed");
    CHECK(stat(fake.stats(), "requests") == 3);
}

TEST_CASE("comfyui: bad payloads get 422 and never reach the model server", "[integration][comfyui]") {
    FakeModelServer fake("comfyui", {"--token-delay", "0"});
    CachedBenchmark cache;
    REQUIRE(fake.wait_loaded());
    WorkerProcess w(artifact(COMFYUI_PLUGIN), {}, env_for(fake, cache));

    CHECK(http(w.port(), "POST", "/generate/sync", R"({"input": 5})").status == 422);
    const auto flat = http(w.port(), "POST", "/generate/sync", R"({"workflow_json": {}})");
    CHECK(flat.status == 422);
    CHECK_THAT(flat.body, Catch::Contains("input"));
    const auto bad_workflow = http(w.port(), "POST", "/generate/sync", R"({"input": {"workflow_json": [1]}})");
    CHECK(bad_workflow.status == 422);
    CHECK_THAT(bad_workflow.body, Catch::Contains("workflow_json"));
    const auto no_prompt = http(w.port(), "POST", "/prompt", R"({"workflow": {}})");
    CHECK(no_prompt.status == 422);
    CHECK_THAT(no_prompt.body, Catch::Contains("prompt"));
    CHECK(http(w.port(), "POST", "/prompt", R"({"prompt": "a cat"})").status == 422);
    CHECK(stat(fake.stats(), "requests") == 0);
}

TEST_CASE("comfyui: /prompt submits to ComfyUI, polls its history and answers with the entry",
          "[integration][comfyui]") {
    FakeModelServer fake("comfyui", {"--token-delay", "0.02"});
    CachedBenchmark cache;
    REQUIRE(fake.wait_loaded());
    WorkerProcess w(artifact(COMFYUI_PLUGIN), {"--plugin-option", "COMFYUI_POLL_INTERVAL=0.05"}, env_for(fake, cache));

    // 10 steps of 20 ms: several polls before the history has the entry.
    const auto res = http(w.port(), "POST", "/prompt", prompt_body(txt2img(512, 512, 10, 2)));
    REQUIRE(res.status == 200);
    const auto entry = json::parse(res.body).as_object();
    const std::string id(entry.at("prompt_id").as_string());
    CHECK(entry.at("status").at("completed") == true);
    const auto& images = entry.at("outputs").at("9").at("images").as_array();
    REQUIRE(images.size() == 2);
    const std::string filename(images.at(0).at("filename").as_string());
    CHECK_THAT(filename, Catch::StartsWith("t_"));
    CHECK(images.at(0).at("view").as_string() == "/view?filename=" + filename + "&subfolder=&type=output");
    // The entry is ComfyUI's: the same as asking its history directly, and the view URL serves the file.
    const auto direct = json::parse(http(fake.port(), "GET", "/history/" + id).body).as_object().at(id).as_object();
    CHECK(direct.at("outputs").at("9").at("images").at(0).at("filename").as_string() == filename);
    CHECK(http(fake.port(), "GET", std::string(images.at(0).at("view").as_string())).status == 200);

    const auto stats = fake.stats();
    CHECK(path_count(stats, "/prompt") == 1);
    CHECK(stats.at("last_body") == json::parse(prompt_body(txt2img(512, 512, 10, 2))));
    CHECK(metric(w.port(), "cppworker_plugin_comfyui_prompts_submitted_total") == 1);
    CHECK(metric(w.port(), "cppworker_plugin_comfyui_history_polls_total") >= 2);
    CHECK(metric(w.port(), "cppworker_workload_total{outcome=\"served\"}") == Approx(expected_workload(512, 512, 10, 2)));
    CHECK(metric(w.port(), "cppworker_requests_total{outcome=\"success\"}") == 1);
}

TEST_CASE("comfyui: /prompt requests wait on timers, not threads: more than --blocking-threads progress at once",
          "[integration][comfyui]") {
    FakeModelServer fake("comfyui", {"--token-delay", "0.02"});
    CachedBenchmark cache;
    REQUIRE(fake.wait_loaded());
    WorkerProcess w(artifact(COMFYUI_PLUGIN), {"--blocking-threads", "1", "--plugin-option", "COMFYUI_POLL_INTERVAL=0.05"},
                    env_for(fake, cache));
    REQUIRE(wait_ready(w.port(), 200));
    fake.reset_stats();

    // Four prompts of 2 s each, against a pool of one thread: all four are in ComfyUI at once (one
    // running, three queued there), and the plugin polls each one's history while it waits.
    constexpr int prompts = 4;
    std::vector<std::future<HttpResponse>> answers;
    for (int i = 0; i < prompts; ++i) {
        answers.push_back(std::async(std::launch::async, [&] {
            return http(w.port(), "POST", "/prompt", prompt_body(txt2img(512, 512, 100, 1)));
        }));
    }
    REQUIRE(wait_running(fake));
    REQUIRE(wait_pending(fake, prompts - 1));
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (history_polls(fake).size() < prompts && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(20ms);
    }
    CHECK(history_polls(fake).size() == prompts);
    CHECK(metric(w.port(), "cppworker_requests_working") == prompts);
    CHECK(wait_metric_at_least(w.port(), "cppworker_timers_pending", 1));
    for (auto& a : answers) CHECK(a.get().status == 200);
    CHECK(metric(w.port(), "cppworker_plugin_comfyui_prompts_submitted_total") == prompts);
    CHECK(metric(w.port(), "cppworker_requests_total{outcome=\"success\"}") == prompts);
    CHECK(wait_metric(w.port(), "cppworker_timers_pending", 0));
}

TEST_CASE("comfyui: ComfyUI's refusals pass through, a failed run is a counted error", "[integration][comfyui]") {
    FakeModelServer fake("comfyui", {"--token-delay", "0.02"});
    CachedBenchmark cache;
    REQUIRE(fake.wait_loaded());
    WorkerProcess w(artifact(COMFYUI_PLUGIN), {"--plugin-option", "COMFYUI_POLL_INTERVAL=0.05"}, env_for(fake, cache));

    json::object no_output = txt2img(512, 512, 2, 1);
    no_output.erase("9");
    const auto refused = http(w.port(), "POST", "/prompt", prompt_body(no_output));
    CHECK(refused.status == 400);
    const auto error = json::parse(refused.body).as_object();
    CHECK(error.at("error").at("type") == "prompt_no_outputs");
    CHECK(error.contains("node_errors"));

    // Interrupted while it runs: ComfyUI's history says error, the client gets 500 saying why.
    auto running = std::async(std::launch::async, [&] {
        return http(w.port(), "POST", "/prompt", prompt_body(txt2img(512, 512, 200, 1)));
    });
    REQUIRE(wait_running(fake));
    REQUIRE(http(fake.port(), "POST", "/interrupt", "{}").status == 200);
    const auto failed = running.get();
    CHECK(failed.status == 500);
    CHECK_THAT(failed.body, Catch::Contains("execution interrupted"));
    CHECK(metric(w.port(), "cppworker_plugin_comfyui_prompt_failures_total") == 1);
    CHECK(metric(w.port(), "cppworker_requests_total{outcome=\"error\"}") == 1);
}

TEST_CASE("comfyui: a prompt over COMFYUI_TIMEOUT is interrupted in ComfyUI and answered 504",
          "[integration][comfyui]") {
    FakeModelServer fake("comfyui", {"--token-delay", "0.02"});
    CachedBenchmark cache;
    REQUIRE(fake.wait_loaded());
    WorkerProcess w(artifact(COMFYUI_PLUGIN),
                    {"--plugin-option", "COMFYUI_POLL_INTERVAL=0.05", "--plugin-option", "COMFYUI_TIMEOUT=0.5"},
                    env_for(fake, cache));

    const auto started = std::chrono::steady_clock::now();
    const auto res = http(w.port(), "POST", "/prompt", prompt_body(txt2img(512, 512, 500, 1)));  // 10 s of work
    CHECK(res.status == 504);
    CHECK_THAT(res.body, Catch::Contains("COMFYUI_TIMEOUT (0.5 s)"));
    // Well before the work would have ended: the timeout cut it (0.5 s on an idle machine).
    CHECK(std::chrono::steady_clock::now() - started < 8s);
    CHECK(fake.wait_for_log("Processing interrupted", 10s));  // ComfyUI is free for the next request
    CHECK(metric(w.port(), "cppworker_plugin_comfyui_prompt_timeouts_total") == 1);
}

namespace {
std::string prompt_request(const std::string& body) {
    return "POST /prompt HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body;
}
// Waits until the plugin polls the history of exactly one prompt, and returns its id.
std::string polled_prompt(const FakeModelServer& fake) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (history_polls(fake).empty() && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(20ms);
    }
    const auto polled = history_polls(fake);
    return polled.size() == 1 ? polled.begin()->first : std::string();
}
double seconds_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}
}  // namespace

TEST_CASE("comfyui: a client leaving a running /prompt has ComfyUI interrupt it, and the next prompt starts",
          "[integration][comfyui][cancel]") {
    FakeModelServer fake("comfyui", {"--token-delay", "0.02"});
    CachedBenchmark cache;
    REQUIRE(fake.wait_loaded());
    WorkerProcess w(artifact(COMFYUI_PLUGIN), {"--plugin-option", "COMFYUI_POLL_INTERVAL=0.05"}, env_for(fake, cache));
    REQUIRE(wait_ready(w.port(), 200));
    fake.reset_stats();

    auto leaving = std::make_unique<HttpConnection>(w.port());
    leaving->send_raw(prompt_request(prompt_body(txt2img(512, 512, 1000, 1))));  // 20 s of work
    const auto left_id = polled_prompt(fake);
    REQUIRE(!left_id.empty());
    REQUIRE(wait_running(fake));
    auto next = std::async(std::launch::async, [&] {
        return http(w.port(), "POST", "/prompt", prompt_body(txt2img(512, 512, 5, 1)));
    });
    // Submitted at once: it waits in ComfyUI's queue, behind the one about to be left.
    REQUIRE(wait_pending(fake, 1));

    const auto left = std::chrono::steady_clock::now();
    leaving.reset();
    // Bounds far above what it takes (the figures are printed; tenths of a second on an idle
    // machine) and far below the 20 s of the prompt, which is what tells an interrupt from a
    // prompt that ran to its end: a loaded machine must not fail them.
    REQUIRE(fake.wait_for_log("Processing interrupted", 10s));
    const double interrupt_s = seconds_since(left);
    const auto res = next.get();
    const double next_done_s = seconds_since(left);
    std::printf("comfyui cancel (running): interrupted %.3f s after the client left, next prompt answered after %.3f s\n",
                interrupt_s, next_done_s);
    CHECK(interrupt_s < 10.0);
    CHECK(res.status == 200);
    CHECK(next_done_s < 15.0);
    CHECK(path_count(fake.stats(), "/interrupt") == 1);
    CHECK(wait_metric(w.port(), "cppworker_requests_total{outcome=\"cancelled\"}", 1, 10s));
}

TEST_CASE("comfyui: a client leaving a /prompt queued in ComfyUI has it deleted from the queue",
          "[integration][comfyui][cancel]") {
    FakeModelServer fake("comfyui", {"--token-delay", "0.02"});
    CachedBenchmark cache;
    REQUIRE(fake.wait_loaded());
    WorkerProcess w(artifact(COMFYUI_PLUGIN), {"--plugin-option", "COMFYUI_POLL_INTERVAL=0.05"}, env_for(fake, cache));
    REQUIRE(wait_ready(w.port(), 200));
    fake.reset_stats();

    // Someone else's prompt (ComfyUI's own UI, say) keeps ComfyUI busy for 10 s.
    const auto other = http(fake.port(), "POST", "/prompt", prompt_body(txt2img(512, 512, 500, 1)));
    REQUIRE(other.status == 200);
    const std::string other_id(json::parse(other.body).at("prompt_id").as_string());
    REQUIRE(wait_running(fake));
    std::string left_id;
    {
        HttpConnection c(w.port());
        c.send_raw(prompt_request(prompt_body(txt2img(512, 512, 20, 1))));
        left_id = polled_prompt(fake);
        REQUIRE(!left_id.empty());
        const auto queue = json::parse(http(fake.port(), "GET", "/queue").body);
        REQUIRE(queue.at("queue_pending").as_array().size() == 1);
    }
    const auto left = std::chrono::steady_clock::now();
    const auto emptied = [&] {
        return json::parse(http(fake.port(), "GET", "/queue").body).at("queue_pending").as_array().empty();
    };
    // Left to itself the prompt would wait for the other one to end, seconds later; a loaded
    // machine may take seconds to delete it, not that many.
    while (!emptied() && seconds_since(left) < 5) std::this_thread::sleep_for(10ms);
    const double deleted_s = seconds_since(left);
    std::printf("comfyui cancel (queued): deleted from the queue %.3f s after the client left\n", deleted_s);
    CHECK(emptied());
    // The plugin also interrupts the prompt it left, naming it: ComfyUI interrupts only the prompt
    // named, so the other one, running when the interrupt came, runs on to its end.
    REQUIRE(fake.wait_for([](const json::object& s) { return path_count(s, "/interrupt") == 1; }, 5s));
    REQUIRE(history_of(fake, other_id).empty());
    json::object other_entry;
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while ((other_entry = history_of(fake, other_id)).empty() && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(50ms);
    }
    REQUIRE(!other_entry.empty());
    CHECK(other_entry.at("status").at("status_str") == "success");
    // And the one that was left never ran: a prompt sent after it is answered, and ComfyUI, which
    // runs its queue in order, keeps no history for it.
    CHECK(http(w.port(), "POST", "/prompt", prompt_body(txt2img(512, 512, 2, 1))).status == 200);
    CHECK(history_of(fake, left_id).empty());
}

TEST_CASE("comfyui: past 10 s of queued work (max_queue_time) a request is refused with 429",
          "[integration][comfyui]") {
    FakeModelServer fake("comfyui", {"--token-delay", "0.02"});
    CachedBenchmark cache;
    std::ofstream(cache.file) << "4.0";  // 4 workload units a second: one 52.6 image is 13 s of queue
    REQUIRE(fake.wait_loaded());
    WorkerProcess w(artifact(COMFYUI_PLUGIN), {}, env_for(fake, cache));
    REQUIRE(wait_ready(w.port(), 200));

    auto first = std::async(std::launch::async, [&] {
        return http(w.port(), "POST", "/generate/sync", wrapper_body(txt2img(512, 512, 20, 1)));
    });
    REQUIRE(fake.wait_for([](const json::object& s) { return stat(s, "in_flight") == 1; }));
    const auto second = http(w.port(), "POST", "/prompt", prompt_body(txt2img(512, 512, 20, 1)));
    CHECK(second.status == 429);
    CHECK(first.get().status == 200);
    CHECK(stat(fake.stats(), "requests") == 1);
    CHECK(metric(w.port(), "cppworker_requests_total{outcome=\"rejected\"}") == 1);
}

TEST_CASE("comfyui: ready after ComfyUI's GUI line and a benchmark through /generate/sync",
          "[integration][comfyui][readiness]") {
    FakeModelServer fake("comfyui", {"--token-delay", "0.002", "--load-delay", "0.5"});
    WorkerProcess w(artifact(COMFYUI_PLUGIN), {},
                    {{"UNSECURED", "true"}, {"MODEL_SERVER_URL", fake.url()}, {"MODEL_LOG", fake.log_path().string()}});
    CHECK(http(w.port(), "GET", "/readyz").status == 503);
    REQUIRE(wait_ready(w.port(), 200));
    CHECK(w.log().find("model log says loaded: To see the GUI go to: ") != std::string::npos);
    // A warm-up and 3 runs of one request (FIFO), each a 512x512, 20-step txt2img.
    const auto stats = fake.stats();
    CHECK(path_count(stats, "/generate/sync") == 1 + 3);
    CHECK(stat(stats, "requests") == 1 + 3);
    const auto& workflow = stats.at("last_body").at("input").at("workflow_json").as_object();
    CHECK(workflow.at("3").at("inputs").at("steps") == 20);
    CHECK(workflow.at("5").at("inputs").at("width") == 512);
    CHECK(stat(stats, "other_requests") >= 1);  // the health probe on the wrapper's /health
    CHECK(metric(w.port(), "cppworker_max_perf") > 0);
    CHECK(metric(w.port(), "cppworker_requests_total{outcome=\"success\"}") == 0);
}

TEST_CASE("comfyui: the provisioning script's failure keeps the worker unready", "[integration][comfyui][readiness]") {
    FakeModelServer fake("comfyui", {"--fail-start", "--load-delay", "0.1"});
    CachedBenchmark cache;
    auto env = env_for(fake, cache);
    env["MODEL_LOG"] = fake.log_path().string();
    WorkerProcess w(artifact(COMFYUI_PLUGIN), {}, env);
    REQUIRE(w.wait_for_log("model log error: [ERROR] Provisioning Script failed"));
    check_error_outlives_loading(w, fake);
}
