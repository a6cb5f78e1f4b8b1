// The dashboard's page and JSON API (README "The dashboard") end to end: the real engine starts a
// real worker, requests are routed through it and served, and GET /api/dashboard/ shows what
// happened, incrementally.
#include "engine_process.hpp"
#include "http_client.hpp"

#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include <thread>

using namespace cppworker::test;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

json::object hello_config() {
    const json::object env{{"WORKER_SUPERVISE", "false"}, {"BENCHMARK_CACHE", "{folder}/has_benchmark"}};
    const json::object hello{{"command", json::array{CPPWORKER_BINARY, "--plugin", HELLO_WORLD_PLUGIN}}, {"env", env}};
    return json::object{
        {"templates", json::object{{"hello_world", hello}}},
        {"endpoints", json::array{json::object{{"endpoint_name", "hello"},
                                               {"api_key", "hello-key"},
                                               {"cold_workers", 1},
                                               {"max_workers", 2},
                                               {"workergroups", json::array{json::object{{"template_hash", "hello_world"}}}}}}}};
}

json::object dashboard(uint16_t port, uint64_t since) {
    const auto answer = http(port, "GET", "/api/dashboard/?since=" + std::to_string(since) + "&api_key=" +
                                              EngineProcess::account_key);
    REQUIRE(answer.status == 200);
    return json::parse(answer.body).as_object();
}

// Polls the API until `wanted` holds for the endpoint's newest sample; returns that sample.
template <class Predicate>
json::object wait_sample(uint16_t port, Predicate wanted, std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    uint64_t since = 0;
    json::object last;
    while (std::chrono::steady_clock::now() < deadline) {
        const auto answer = dashboard(port, since);
        since = answer.at("last").to_number<uint64_t>();
        const auto& samples = answer.at("endpoints").as_array().at(0).at("samples").as_array();
        if (!samples.empty()) last = samples.back().as_object();
        if (!last.empty() && wanted(last)) return last;
        std::this_thread::sleep_for(200ms);
    }
    FAIL("the dashboard never showed what was wanted; the last sample: " << json::serialize(last));
    return last;
}

// Routes one request and serves it at the worker the engine named.
void route_and_serve(uint16_t engine) {
    int64_t idx = 0;
    for (int i = 0; i < 300; ++i) {
        const auto answer = http(engine, "POST", "/route/",
                                 json::serialize(json::object{{"endpoint", "hello"}, {"api_key", "hello-key"},
                                                              {"cost", 1}, {"request_idx", idx}}));
        REQUIRE(answer.status == 200);
        auto auth = json::parse(answer.body).as_object();
        if (auth.contains("url")) {
            const std::string url(auth.at("url").as_string());
            const auto port = static_cast<uint16_t>(std::stoi(url.substr(url.rfind(':') + 1)));
            const auto body = json::serialize(
                json::object{{"auth_data", auth}, {"payload", json::object{{"prompt", "one two three"}}}});
            CHECK(http(port, "POST", "/generate", body).status == 200);
            return;
        }
        idx = auth.at("request_idx").to_number<int64_t>();
        std::this_thread::sleep_for(100ms);
    }
    FAIL("no worker for the request");
}

}  // namespace

TEST_CASE("dashboard: the page is served from the engine itself, and its data only with the account key",
          "[engine][dashboard]") {
    TempDir run;
    EngineProcess engine(run.path(), json::object{{"templates", json::object{}}});
    const auto port = engine.port();
    const auto page = http(port, "GET", "/");
    CHECK(page.status == 200);
    CHECK(page.header("content-type").starts_with("text/html"));
    CHECK(page.body.find("/dashboard/uPlot.iife.min.js") != std::string::npos);
    const auto chart_library = http(port, "GET", "/dashboard/uPlot.iife.min.js");
    CHECK(chart_library.status == 200);
    CHECK(chart_library.body.find("uPlot") != std::string::npos);
    CHECK(http(port, "GET", "/dashboard/dashboard.js").status == 200);
    CHECK(http(port, "POST", "/").status == 405);

    CHECK(http(port, "GET", "/api/dashboard/").status == 401);
    CHECK(http(port, "GET", "/api/dashboard/?api_key=wrong").status == 401);
    const auto bad = http(port, "GET", std::string("/api/dashboard/?since=soon&api_key=") + EngineProcess::account_key);
    CHECK(bad.status == 400);
    CHECK(bad.body.find("since") != std::string::npos);
    CHECK(http(port, "GET", std::string("/api/dashboard/?workers=some&api_key=") + EngineProcess::account_key).status ==
          400);
    const auto empty = dashboard(port, 0);
    CHECK(empty.at("endpoints").as_array().empty());
    // An hour at the tick's resolution.
    CHECK(empty.at("limits").at("samples").to_number<double>() * empty.at("tick").to_number<double>() == Approx(3600));
}

TEST_CASE("dashboard: the API shows the worker the policy created become ready, the load it served, and the "
          "policy's actions, sample by sample",
          "[engine][dashboard]") {
    TempDir run;
    EngineProcess engine(run.path(), hello_config());
    const auto port = engine.port();
    INFO("engine log:\n" << engine.log());

    const auto ready = wait_sample(
        port, [](const json::object& s) { return s.at("ready") == 1; }, 60s);
    const auto& worker = ready.at("workers").as_array().at(0);
    CHECK(worker.at("id") == 1);
    CHECK(worker.at("state") == "READY");
    CHECK(worker.at("max_perf").to_number<double>() > 0);
    CHECK(ready.at("total_wanted") == 1);
    CHECK(ready.at("queue_time").is_number());

    const auto first = dashboard(port, 0);
    const auto& endpoint = first.at("endpoints").as_array().at(0);
    CHECK(endpoint.at("name") == "hello");
    const auto& samples = endpoint.at("samples").as_array();
    REQUIRE(samples.size() >= 2);
    CHECK_FALSE(samples.at(0).as_object().contains("workers"));  // only the newest carries them
    CHECK(samples.back().as_object().contains("workers"));
    const auto every = http(port, "GET", std::string("/api/dashboard/?workers=all&api_key=") + EngineProcess::account_key);
    REQUIRE(every.status == 200);
    const auto every_answer = json::parse(every.body);
    for (const auto& s : every_answer.at("endpoints").at(0).at("samples").as_array()) {
        CHECK(s.as_object().contains("workers"));
    }
    const auto& actions = endpoint.at("actions").as_array();
    REQUIRE_FALSE(actions.empty());
    CHECK(actions.at(0).at("action") == "create");
    CHECK(actions.at(0).at("worker") == 1);
    CHECK_FALSE(actions.at(0).at("reason").as_string().empty());

    // Incremental: what came after `last`, and only that.
    const auto last = first.at("last").to_number<uint64_t>();
    std::this_thread::sleep_for(1500ms);
    const auto next = dashboard(port, last);
    const auto& new_samples = next.at("endpoints").as_array().at(0).at("samples").as_array();
    REQUIRE_FALSE(new_samples.empty());
    for (const auto& s : new_samples) CHECK(s.at("seq").to_number<uint64_t>() > last);

    for (int i = 0; i < 20; ++i) route_and_serve(port);
    const auto busy = wait_sample(
        port, [](const json::object& s) { return s.at("served").to_number<double>() > 0; }, 30s);
    CHECK(busy.at("offered").to_number<double>() > 0);
}
