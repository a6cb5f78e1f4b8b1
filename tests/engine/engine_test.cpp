// The local engine end to end: cppworker-engine starts real cppworkers, and a client written from
// ../shared/protocol.md §3 routes through it and calls the workers, as Vast's client would.
#include "engine_process.hpp"
#include "http_client.hpp"
#include "signer.hpp"

#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include <atomic>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <thread>

#include <signal.h>

using namespace cppworker::test;
using namespace std::chrono_literals;
namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

// A worker of the engine's, run directly (no supervisor) so that its process is the worker itself;
// it writes its pid into its folder, where a test that kills it finds it.
json::object worker_template(const char* plugin, json::object env = {}) {
    env["WORKER_SUPERVISE"] = "false";
    env["BENCHMARK_CACHE"] = "{folder}/has_benchmark";
    return json::object{{"command", json::array{"/bin/sh", "-c", R"(echo $$ > "$0/pid" && exec "$1" --plugin "$2")",
                                                "{folder}", CPPWORKER_BINARY, plugin}},
                        {"env", std::move(env)}};
}

json::object endpoint(std::string_view name, std::string_view key, std::string_view template_name,
                      json::object params) {
    params["endpoint_name"] = name;
    params["api_key"] = key;
    params["workergroups"] = json::array{json::object{{"template_hash", template_name}}};
    return params;
}

json::object post_json(uint16_t port, std::string_view path, const json::object& body, int* status = nullptr) {
    const auto answer = http(port, "POST", path, json::serialize(body));
    if (status != nullptr) *status = answer.status;
    json::error_code ec;
    auto parsed = json::parse(answer.body, ec);
    return !ec && parsed.is_object() ? parsed.get_object() : json::object{{"raw", answer.body}};
}

// POST /route/ until a worker is named (the client comes back with its request_idx while it waits);
// the answer is the auth_data the worker checks.
json::object route(uint16_t engine, std::string_view endpoint_name, std::string_view key,
                   std::chrono::seconds limit = 60s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    int64_t idx = 0;
    while (std::chrono::steady_clock::now() < deadline) {
        int status = 0;
        auto answer = post_json(engine, "/route/",
                                json::object{{"endpoint", endpoint_name}, {"api_key", key}, {"cost", 1},
                                             {"request_idx", idx}, {"replay_timeout", 120}},
                                &status);
        if (status != 200) throw std::runtime_error("/route/ answered " + std::to_string(status) + ": " + json::serialize(answer));
        if (answer.contains("url")) return answer;
        idx = answer.at("request_idx").to_number<int64_t>();
        std::this_thread::sleep_for(100ms);
    }
    throw std::runtime_error("no worker within the limit for " + std::string(endpoint_name));
}

uint16_t port_of(const json::object& auth_data) {
    const std::string url(auth_data.at("url").as_string());
    return static_cast<uint16_t>(std::stoi(url.substr(url.rfind(':') + 1)));
}

HttpResponse call(const json::object& auth_data, std::string_view path, const json::object& payload) {
    const auto body = json::serialize(json::object{{"auth_data", auth_data}, {"payload", payload}});
    return http(port_of(auth_data), "POST", path, body);
}

std::map<std::string, int> count_states(const json::value& workers) {
    std::map<std::string, int> counts;
    for (const auto& w : workers.as_array()) ++counts[std::string(w.at("status").as_string())];
    return counts;
}

template <class Predicate>
bool wait_workers(const EngineProcess& engine, int64_t endpoint_id, Predicate wanted, std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    do {
        if (wanted(count_states(engine.workers(endpoint_id)))) return true;
        std::this_thread::sleep_for(200ms);
    } while (std::chrono::steady_clock::now() < deadline);
    return false;
}

int worker_pid(const fs::path& run_dir, int64_t worker_id) {
    std::ifstream in(run_dir / "workers" / std::to_string(worker_id) / "pid");
    int pid = 0;
    in >> pid;
    return pid;
}

std::vector<int> all_worker_pids(const fs::path& run_dir) {
    std::vector<int> pids;
    for (const auto& entry : fs::directory_iterator(run_dir / "workers")) {
        std::ifstream in(entry.path() / "pid");
        if (int pid = 0; in >> pid) pids.push_back(pid);
    }
    return pids;
}

bool all_gone(const std::vector<int>& pids, std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    do {
        if (std::all_of(pids.begin(), pids.end(), process_gone)) return true;
        std::this_thread::sleep_for(100ms);
    } while (std::chrono::steady_clock::now() < deadline);
    return false;
}

json::object hello_config() {
    return json::object{
        {"templates", json::object{{"hello_world", worker_template(HELLO_WORLD_PLUGIN)}}},
        {"endpoints", json::array{endpoint("hello", "hello-key", "hello_world",
                                           json::object{{"cold_workers", 1}, {"max_workers", 2}})}}};
}

}  // namespace

TEST_CASE("engine: bad calls get 400, 401, 404 or 422 with a reason, and endpoints are managed through the web API",
          "[engine]") {
    TempDir run;
    EngineProcess engine(run.path(), json::object{{"templates", json::object{{"hello_world", worker_template(HELLO_WORLD_PLUGIN)}}}});
    const auto port = engine.port();

    CHECK(http(port, "POST", "/route/", "{not json").status == 400);
    int status = 0;
    auto answer = post_json(port, "/route/", json::object{{"endpoint", "nowhere"}, {"api_key", "k"}}, &status);
    CHECK(status == 404);
    answer = post_json(port, "/route/", json::object{{"endpoint", 5}, {"cost", "much"}}, &status);
    CHECK(status == 422);
    CHECK(answer.at("error").as_object().contains("endpoint"));
    CHECK(answer.at("error").as_object().contains("cost"));

    // Creating takes the account key; the endpoint's own key then routes.
    const json::object created{{"endpoint_name", "made"}, {"api_key", "made-key"}, {"cold_workers", 0},
                               {"workergroups", json::array{json::object{{"template_hash", "hello_world"}}}}};
    CHECK(http(port, "POST", "/api/v0/endptjobs/?api_key=wrong", json::serialize(created)).status == 401);
    const auto made = http(port, "POST", std::string("/api/v0/endptjobs/?api_key=") + EngineProcess::account_key,
                           json::serialize(created));
    REQUIRE(made.status == 200);
    const auto id = json::parse(made.body).at("result").to_number<int64_t>();
    const auto listed = http(port, "GET", std::string("/api/v0/endptjobs/?api_key=") + EngineProcess::account_key);
    REQUIRE(listed.status == 200);
    CHECK(listed.body.find("\"made\"") != std::string::npos);
    CHECK(http(port, "POST", std::string("/api/v0/endptjobs/?api_key=") + EngineProcess::account_key,
               json::serialize(json::object{{"endpoint_name", "made"}}))
              .status == 400);
    CHECK(http(port, "POST", std::string("/api/v0/workergroups/?api_key=") + EngineProcess::account_key,
               json::serialize(json::object{{"endpoint_id", id}, {"template_hash", "no_such_template"}}))
              .status == 400);

    post_json(port, "/route/", json::object{{"endpoint", "made"}, {"api_key", "not-made-key"}}, &status);
    CHECK(status == 401);
    answer = post_json(port, "/route/", json::object{{"endpoint", "made"}, {"api_key", "made-key"}}, &status);
    CHECK(status == 200);
    CHECK(answer.contains("request_idx"));
    CHECK_FALSE(answer.contains("url"));  // no worker: the client is told to wait
    CHECK(engine.workers(id).as_array().empty());

    const auto deleted =
        http(port, "DELETE", "/api/v0/endptjobs/" + std::to_string(id) + "/?api_key=" + EngineProcess::account_key);
    CHECK(deleted.status == 200);
    post_json(port, "/route/", json::object{{"endpoint", "made"}, {"api_key", "made-key"}}, &status);
    CHECK(status == 404);
}

TEST_CASE("engine: a routed request is signed as Vast signs it and served, a forged signature is refused, and the "
          "engine's SIGTERM stops its workers",
          "[engine]") {
    TempDir run;
    EngineProcess engine(run.path(), hello_config());
    const auto auth = route(engine.port(), "hello", "hello-key");
    INFO("engine log:\n" << engine.log());
    for (const char* field : {"url", "reqnum", "signature", "endpoint", "cost", "request_idx", "__request_id"}) {
        CHECK(auth.contains(field));
    }
    CHECK(auth.at("endpoint") == "hello");
    const auto served = call(auth, "/generate", json::object{{"prompt", "one two three"}});
    CHECK(served.status == 200);
    CHECK(served.body.find("generated_text") != std::string::npos);

    auto forged = auth;
    forged["signature"] = signer().sign(Signer::url_message(std::string(auth.at("url").as_string())));
    CHECK(call(forged, "/generate", json::object{{"prompt", "forged"}}).status == 401);

    // The worker's reports reach the engine: it is listed as ready, with its benchmark.
    const auto workers = engine.workers(1);
    REQUIRE(workers.as_array().size() == 1);
    CHECK(workers.as_array()[0].at("status") == "READY");
    CHECK(workers.as_array()[0].at("measured_perf").to_number<double>() > 0);

    const auto pids = all_worker_pids(run.path());
    REQUIRE(pids.size() == 1);
    engine.signal(SIGTERM);
    CHECK(engine.wait_exit(60s) == 0);
    CHECK(all_gone(pids, 5s));
    CHECK(engine.log().find("stopping every worker") != std::string::npos);
    // The engine took the worker's last reports while it drained.
    std::ifstream worker_log(run.path() / "workers" / "1" / "worker.log");
    const std::string worker_text(std::istreambuf_iterator<char>(worker_log), {});
    CHECK(worker_text.find("bye") != std::string::npos);
    CHECK(worker_text.find("last reports: not all delivered") == std::string::npos);
}

TEST_CASE("engine: with fields signatures a replayed request is refused by the worker", "[engine]") {
    TempDir run;
    auto config = hello_config();
    config["templates"].as_object()["hello_world"] =
        worker_template(HELLO_WORLD_PLUGIN, json::object{{"AUTH_SCHEME", "fields"}});
    EngineProcess engine(run.path(), config, {"--signature-scheme", "fields"});
    const auto auth = route(engine.port(), "hello", "hello-key");
    INFO("engine log:\n" << engine.log());
    CHECK(call(auth, "/generate", json::object{{"prompt", "first"}}).status == 200);
    CHECK(call(auth, "/generate", json::object{{"prompt", "again"}}).status == 401);
    const auto next = route(engine.port(), "hello", "hello-key");
    CHECK(next.at("reqnum").to_number<int64_t>() > auth.at("reqnum").to_number<int64_t>());
    CHECK(call(next, "/generate", json::object{{"prompt", "next"}}).status == 200);
}

TEST_CASE("engine: workers follow a step up and a step down in load, every request is answered, and a killed "
          "worker is replaced",
          "[engine]") {
    TempDir run;
    // A paced worker serves 10 requests a second: about 25 a second need three of them.
    const json::object config{
        {"templates", json::object{{"paced", worker_template(PACED_PLUGIN)}}},
        {"endpoints", json::array{endpoint("paced", "paced-key", "paced",
                                           json::object{{"cold_workers", 1}, {"max_workers", 3}, {"min_load", 1},
                                                        {"cold_mult", 1}, {"max_queue_time", 3}})}},
        {"tuning", json::object{{"stable_window", 6}, {"panic_window", 2}, {"scale_down_delay", 4}}}};
    EngineProcess engine(run.path(), config);
    const auto port = engine.port();
    REQUIRE(wait_workers(engine, 1, [](auto s) { return s["READY"] == 1; }, 60s));

    std::atomic<bool> loading{true};
    std::atomic<int> answered{0};
    std::mutex failures_mutex;
    std::vector<std::string> failures;
    std::vector<std::thread> clients;
    for (int i = 0; i < 8; ++i) {
        clients.emplace_back([&] {
            auto next = std::chrono::steady_clock::now();
            while (loading) {
                try {
                    const auto auth = route(port, "paced", "paced-key", 120s);
                    const auto answer = call(auth, "/work", json::object{{"ms", 100}});
                    if (answer.status == 200) {
                        ++answered;
                    } else {
                        std::lock_guard lock(failures_mutex);
                        failures.push_back(std::to_string(answer.status) + " " + answer.body);
                    }
                } catch (const std::exception& e) {
                    std::lock_guard lock(failures_mutex);
                    failures.emplace_back(e.what());
                }
                next += 320ms;
                std::this_thread::sleep_until(next);
            }
        });
    }
    const bool scaled_up = wait_workers(engine, 1, [](auto s) { return s["READY"] == 3; }, 90s);
    loading = false;
    for (auto& c : clients) c.join();
    INFO("engine log:\n" << engine.log());
    CHECK(scaled_up);
    CHECK(failures.empty());
    if (!failures.empty()) FAIL_CHECK(failures.front());
    CHECK(answered > 0);

    // No load: after the scale-down delay the extra workers stop (drained) and, past cold_workers,
    // go; the one kept for min_load goes on serving.
    CHECK(wait_workers(engine, 1, [](auto s) { return s["READY"] == 1 && s.size() == 1; }, 60s));
    CHECK(engine.log().find("stop worker") != std::string::npos);

    const auto workers = engine.workers(1);
    int64_t ready_id = 0;
    for (const auto& w : workers.as_array()) {
        if (w.at("status") == "READY") ready_id = w.at("id").to_number<int64_t>();
    }
    REQUIRE(ready_id != 0);
    const int pid = worker_pid(run.path(), ready_id);
    REQUIRE(pid > 0);
    ::kill(pid, SIGKILL);
    CHECK(engine.wait_for_log("worker " + std::to_string(ready_id) + " ended unasked", 10s));
    CHECK(wait_workers(engine, 1, [](auto s) { return s["READY"] == 1; }, 60s));
    const auto auth = route(port, "paced", "paced-key");
    CHECK(call(auth, "/work", json::object{{"ms", 1}}).status == 200);
    CHECK(auth.at("url") != json::value(""));
}

TEST_CASE("engine: after a SIGKILL of the engine its workers do not outlive it", "[engine]") {
    TempDir run;
    std::vector<int> pids;
    {
        EngineProcess engine(run.path(), hello_config());
        route(engine.port(), "hello", "hello-key");
        pids = all_worker_pids(run.path());
        REQUIRE_FALSE(pids.empty());
        engine.signal(SIGKILL);
        REQUIRE(engine.wait_exit(10s));
    }
    // They get SIGTERM (the parent-death signal), drain and try to send their last reports to
    // the engine that is gone, for up to 10 s.
    CHECK(all_gone(pids, 40s));
    // The next engine on the same folder starts clean, and serves.
    EngineProcess again(run.path(), hello_config());
    const auto auth = route(again.port(), "hello", "hello-key");
    CHECK(call(auth, "/generate", json::object{{"prompt", "again"}}).status == 200);
}
