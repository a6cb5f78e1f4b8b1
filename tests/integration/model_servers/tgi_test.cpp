// The tgi plugin in front of the fake TGI (tests/fakes/fake_tgi.py), through the real worker:
// relayed answers, streams counted on their way, workload, 422s, readiness and the benchmark.
#include "fake_model_server.hpp"
#include "http_client.hpp"
#include "worker_process.hpp"

#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include <filesystem>
#include <fstream>
#include <map>

using namespace cppworker::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {
std::string generate(int tokens, std::string_view inputs = "What is deep learning?") {
    return json::serialize(json::object{{"inputs", inputs}, {"parameters", {{"max_new_tokens", tokens}}}});
}
}  // namespace

TEST_CASE("tgi: /generate answers with TGI's JSON, sized by max_new_tokens", "[integration][tgi]") {
    FakeModelServer fake("tgi", {"--token-delay", "0.001"});
    CachedBenchmark cache;
    REQUIRE(fake.wait_loaded());
    WorkerProcess w(artifact(TGI_PLUGIN), {}, env_for(fake, cache));

    const auto res = http(w.port(), "POST", "/generate", generate(5));
    REQUIRE(res.status == 200);
    CHECK(res.header("content-type").starts_with("application/json"));
    CHECK(json::parse(res.body).as_object().at("generated_text") == " tok0 tok1 tok2 tok3 tok4");
    CHECK(res.header("x-generated-tokens") == "5");  // TGI's own headers come through
    const auto stats = fake.stats();
    CHECK(stats.at("last_path") == "/generate");
    CHECK(stats.at("last_body") == json::parse(generate(5)));
    CHECK(metric(w.port(), "cppworker_workload_total{outcome=\"served\"}") == 5);

    // The envelope, and TGI's default size for a request that names none (100; 20 from the fake).
    const auto enveloped = http(w.port(), "POST", "/generate",
                                R"({"auth_data": {}, "payload": {"inputs": "Hello", "parameters": {"seed": 1}}})");
    REQUIRE(enveloped.status == 200);
    CHECK(fake.stats().at("last_body") == json::parse(R"({"inputs": "Hello", "parameters": {"seed": 1}})"));
    CHECK(metric(w.port(), "cppworker_workload_total{outcome=\"served\"}") == 105);
    CHECK(metric(w.port(), "cppworker_requests_total{outcome=\"success\"}") == 2);
}

TEST_CASE("tgi: TGI_DEFAULT_MAX_NEW_TOKENS sizes requests that name no max_new_tokens", "[integration][tgi]") {
    FakeModelServer fake("tgi", {"--token-delay", "0"});
    CachedBenchmark cache;
    REQUIRE(fake.wait_loaded());
    WorkerProcess w(artifact(TGI_PLUGIN), {"--plugin-option", "TGI_DEFAULT_MAX_NEW_TOKENS=20"}, env_for(fake, cache));
    REQUIRE(http(w.port(), "POST", "/generate", R"({"inputs": "Hello"})").status == 200);
    CHECK(metric(w.port(), "cppworker_workload_total{outcome=\"served\"}") == 20);
}

TEST_CASE("tgi: a payload that is no generate request gets 422 and never reaches TGI", "[integration][tgi]") {
    FakeModelServer fake("tgi", {"--token-delay", "0"});
    CachedBenchmark cache;
    REQUIRE(fake.wait_loaded());
    WorkerProcess w(artifact(TGI_PLUGIN), {}, env_for(fake, cache));

    const auto no_inputs = http(w.port(), "POST", "/generate", R"({"prompt": "Hello"})");
    CHECK(no_inputs.status == 422);
    CHECK_THAT(no_inputs.body, Catch::Contains("inputs"));
    const auto zero = http(w.port(), "POST", "/generate_stream", generate(0));
    CHECK(zero.status == 422);
    CHECK_THAT(zero.body, Catch::Contains("max_new_tokens"));
    CHECK(http(w.port(), "POST", "/generate", R"({"inputs": "a", "parameters": {"max_new_tokens": "5"}})").status == 422);
    CHECK(stat(fake.stats(), "requests") == 0);
}

TEST_CASE("tgi: /generate_stream arrives token by token, byte for byte, and its tokens are counted",
          "[integration][tgi]") {
    FakeModelServer fake("tgi", {"--token-delay", "0.1"});
    CachedBenchmark cache;
    REQUIRE(fake.wait_loaded());
    WorkerProcess w(artifact(TGI_PLUGIN), {}, env_for(fake, cache));

    HttpConnection c(w.port());
    auto [res, chunks] = c.stream("POST", "/generate_stream", generate(8));
    CHECK(res.status == 200);
    CHECK(res.header("content-type").starts_with("text/event-stream"));
    // Eight tokens 100 ms apart: the first is with the client long before the last.
    REQUIRE(chunks.size() >= 4);
    CHECK(chunks.back().arrived - chunks.front().arrived >= 500ms);

    // What TGI itself answers to the same request, asked directly.
    HttpConnection direct(fake.port());
    auto [direct_res, direct_chunks] = direct.stream("POST", "/generate_stream", generate(8));
    CHECK(joined(chunks) == joined(direct_chunks));

    CHECK(wait_metric(w.port(), "cppworker_plugin_tgi_streamed_tokens_total", 8));
    CHECK(metric(w.port(), "cppworker_plugin_tgi_streams_total") == 1);
    CHECK(metric(w.port(), "cppworker_workload_total{outcome=\"served\"}") == 8);
    CHECK(metric(w.port(), "cppworker_requests_total{outcome=\"success\"}") == 1);
}

TEST_CASE("tgi: TGI's refusals pass through both routes, a stream's error event counts no token",
          "[integration][tgi]") {
    FakeModelServer fake("tgi", {"--token-delay", "0", "--max-total-tokens", "10"});
    CachedBenchmark cache;
    REQUIRE(fake.wait_loaded());
    WorkerProcess w(artifact(TGI_PLUGIN), {}, env_for(fake, cache));

    // Too long for this model: TGI says so with 422 on /generate, and an error event on the stream.
    const auto whole = http(w.port(), "POST", "/generate", generate(20));
    CHECK(whole.status == 422);
    CHECK(json::parse(whole.body).as_object().at("error_type") == "validation");
    HttpConnection c(w.port());
    auto [res, chunks] = c.stream("POST", "/generate_stream", generate(20));
    CHECK(res.status == 200);
    CHECK_THAT(joined(chunks), Catch::StartsWith("data:{\"error\":"));

    // An overloaded TGI answers the stream with a plain JSON 429, relayed whole.
    fake.configure({{"status_override", 429}});
    const auto busy = http(w.port(), "POST", "/generate_stream", generate(3));
    CHECK(busy.status == 429);
    CHECK(busy.header("content-type").starts_with("application/json"));
    CHECK(json::parse(busy.body).as_object().at("error_type") == "overloaded");
    CHECK(metric(w.port(), "cppworker_plugin_tgi_streamed_tokens_total") == 0);
    CHECK(metric(w.port(), "cppworker_plugin_tgi_streams_total") == 1);
}

TEST_CASE("tgi: a client that leaves mid-stream closes TGI's request", "[integration][tgi]") {
    FakeModelServer fake("tgi", {"--token-delay", "0.1"});
    CachedBenchmark cache;
    REQUIRE(fake.wait_loaded());
    WorkerProcess w(artifact(TGI_PLUGIN), {}, env_for(fake, cache));
    {
        HttpConnection c(w.port());
        const auto body = generate(200);
        c.send_raw("POST /generate_stream HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
                   std::to_string(body.size()) + "\r\n\r\n" + body);
        // Mid-stream: tokens have gone through the plugin on their way to the client.
        REQUIRE(wait_metric_at_least(w.port(), "cppworker_plugin_tgi_streamed_tokens_total", 2));
    }
    CHECK(fake.wait_for([](const json::object& s) { return stat(s, "disconnects") == 1; }, 3s));
    CHECK(wait_metric(w.port(), "cppworker_requests_total{outcome=\"cancelled\"}", 1));
    // The stream left behind is not one relayed to its end. Read once a later stream has been:
    // the plugin counts a stream before its last chunk goes out, so by then it has counted
    // whatever it was going to of the first.
    HttpConnection next(w.port());
    auto [res, chunks] = next.stream("POST", "/generate_stream", generate(2));
    CHECK(res.status == 200);
    CHECK(count(joined(chunks), "data:") == 2);
    CHECK(metric(w.port(), "cppworker_plugin_tgi_streams_total") == 1);
}

TEST_CASE("tgi: ready after TGI's Connected line and a benchmark through /generate", "[integration][tgi][readiness]") {
    FakeModelServer fake("tgi", {"--token-delay", "0.001", "--load-delay", "0.5"});
    WorkerProcess w(artifact(TGI_PLUGIN), {},
                    {{"UNSECURED", "true"}, {"MODEL_SERVER_URL", fake.url()}, {"MODEL_LOG", fake.log_path().string()}});
    CHECK(http(w.port(), "GET", "/readyz").status == 503);
    REQUIRE(wait_ready(w.port(), 200));
    CHECK(w.log().find("model log says loaded") != std::string::npos);
    // A warm-up and 8 runs of 50 (core/protocol.md §11), each 128 tokens of random words, all through the plugin.
    const auto stats = fake.stats();
    CHECK(stat(stats, "requests") == 1 + 8 * 50);
    CHECK(path_count(stats, "/generate") == 1 + 8 * 50);
    const auto& last = stats.at("last_body").as_object();
    CHECK(last.at("parameters").as_object().at("max_new_tokens") == 128);
    CHECK(metric(w.port(), "cppworker_max_perf") > 0);
    // Benchmark traffic is not client traffic.
    CHECK(metric(w.port(), "cppworker_requests_total{outcome=\"success\"}") == 0);
}

TEST_CASE("tgi: TGI's start-up error keeps the worker unready", "[integration][tgi][readiness]") {
    FakeModelServer fake("tgi", {"--fail-start", "--load-delay", "0.1"});
    CachedBenchmark cache;
    auto env = env_for(fake, cache);
    env["MODEL_LOG"] = fake.log_path().string();
    WorkerProcess w(artifact(TGI_PLUGIN), {}, env);
    REQUIRE(w.wait_for_log("model log error: Error: ShardCannotStart"));
    check_error_outlives_loading(w, fake);
}
