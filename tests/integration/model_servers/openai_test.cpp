// The openai plugin in front of the fake vLLM (tests/fakes/fake_openai.py), through the real worker:
// completions and chat, streamed or not, the served model's name, workload, 422s, readiness and
// the benchmark.
#include "fake_model_server.hpp"
#include "http_client.hpp"
#include "worker_process.hpp"

#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

using namespace cppworker::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace json = boost::json;

TEST_CASE("openai: a completion answers with the server's JSON, sized by prompt and max_tokens",
          "[integration][openai]") {
    FakeModelServer fake("openai", {"--token-delay", "0.001"});
    CachedBenchmark cache;
    REQUIRE(fake.wait_loaded());
    WorkerProcess w(artifact(OPENAI_PLUGIN), {}, env_for(fake, cache));

    // 12 bytes of prompt: 3 tokens, plus 5 to generate.
    const std::string body = R"({"model": "fake-model", "prompt": "Hello world!", "max_tokens": 5})";
    const auto res = http(w.port(), "POST", "/v1/completions", body);
    REQUIRE(res.status == 200);
    CHECK(res.header("content-type").starts_with("application/json"));
    const auto answer = json::parse(res.body).as_object();
    CHECK(answer.at("object") == "text_completion");
    CHECK(answer.at("choices").as_array().at(0).as_object().at("text") == " tok0 tok1 tok2 tok3 tok4");
    CHECK(fake.stats().at("last_body") == json::parse(body));
    CHECK(metric(w.port(), "cppworker_workload_total{outcome=\"served\"}") == 3 + 5);
    CHECK(metric(w.port(), "cppworker_plugin_openai_model_lookups_total") == 0);  // it named its model

    // Chat: max_completion_tokens, and the envelope.
    const auto chat = http(w.port(), "POST", "/v1/chat/completions",
                           R"({"auth_data": {}, "payload": {"model": "fake-model", "max_completion_tokens": 4,
                               "messages": [{"role": "user", "content": "abcdefgh"}]}})");
    REQUIRE(chat.status == 200);
    const auto message = json::parse(chat.body).as_object().at("choices").as_array().at(0).as_object().at("message");
    CHECK(message.as_object().at("content") == " tok0 tok1 tok2 tok3");
    CHECK(fake.stats().at("last_path") == "/v1/chat/completions");
    CHECK(metric(w.port(), "cppworker_workload_total{outcome=\"served\"}") == 8 + 2 + 4);
}

TEST_CASE("openai: requests without a model get the server's, asked once from /v1/models", "[integration][openai]") {
    FakeModelServer fake("openai", {"--token-delay", "0", "--model", "org/served-7b"});
    CachedBenchmark cache;
    REQUIRE(fake.wait_loaded());
    WorkerProcess w(artifact(OPENAI_PLUGIN), {}, env_for(fake, cache));

    for (int i = 0; i < 3; ++i) {
        const auto res = http(w.port(), "POST", "/v1/completions", R"({"prompt": "Hi", "max_tokens": 2})");
        REQUIRE(res.status == 200);
        CHECK(fake.stats().at("last_body") == json::parse(R"({"prompt": "Hi", "max_tokens": 2, "model": "org/served-7b"})"));
    }
    CHECK(metric(w.port(), "cppworker_plugin_openai_model_lookups_total") == 1);
    CHECK(w.wait_for_log("org/served-7b"));
}

TEST_CASE("openai: OPENAI_MODEL names the model without asking the server", "[integration][openai]") {
    FakeModelServer fake("openai", {"--token-delay", "0", "--model", "org/served-7b"});
    CachedBenchmark cache;
    REQUIRE(fake.wait_loaded());
    WorkerProcess w(artifact(OPENAI_PLUGIN), {"--plugin-option", "OPENAI_MODEL=org/served-7b"}, env_for(fake, cache));
    const auto res = http(w.port(), "POST", "/v1/chat/completions",
                          R"({"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 2})");
    REQUIRE(res.status == 200);
    CHECK(fake.stats().at("last_body").as_object().at("model") == "org/served-7b");
    CHECK(metric(w.port(), "cppworker_plugin_openai_model_lookups_total") == 0);
}

TEST_CASE("openai: a streamed chat arrives token by token and its output chunks are counted",
          "[integration][openai]") {
    FakeModelServer fake("openai", {"--token-delay", "0.1"});
    CachedBenchmark cache;
    REQUIRE(fake.wait_loaded());
    WorkerProcess w(artifact(OPENAI_PLUGIN), {"--plugin-option", "OPENAI_MODEL=fake-model"}, env_for(fake, cache));

    HttpConnection c(w.port());
    auto [res, chunks] = c.stream("POST", "/v1/chat/completions",
                                  R"({"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 6,
                                      "stream": true, "stream_options": {"include_usage": true}})");
    CHECK(res.status == 200);
    CHECK(res.header("content-type").starts_with("text/event-stream"));
    REQUIRE(chunks.size() >= 4);
    CHECK(chunks.back().arrived - chunks.front().arrived >= 400ms);
    const auto body = joined(chunks);
    // The role chunk, six tokens, the usage chunk and [DONE].
    CHECK(count(body, "data: ") == 1 + 6 + 1 + 1);
    CHECK_THAT(body, Catch::EndsWith("data: [DONE]\n\n"));
    CHECK(wait_metric(w.port(), "cppworker_plugin_openai_streamed_chunks_total", 6));

    // A streamed completion too.
    HttpConnection c2(w.port());
    auto [res2, chunks2] = c2.stream("POST", "/v1/completions", R"({"prompt": "Hi", "max_tokens": 3, "stream": true})");
    CHECK(res2.status == 200);
    CHECK(count(joined(chunks2), "\"text\":\" tok") == 3);
    CHECK(wait_metric(w.port(), "cppworker_plugin_openai_streamed_chunks_total", 9));
    CHECK(metric(w.port(), "cppworker_plugin_openai_streams_total") == 2);
    // Counted once the last chunk is written, which the client may see first.
    CHECK(wait_metric(w.port(), "cppworker_requests_total{outcome=\"success\"}", 2));
}

TEST_CASE("openai: a bad payload gets 422 before the server, the server's own refusals pass through",
          "[integration][openai]") {
    FakeModelServer fake("openai", {"--token-delay", "0", "--max-model-len", "100"});
    CachedBenchmark cache;
    REQUIRE(fake.wait_loaded());
    WorkerProcess w(artifact(OPENAI_PLUGIN), {"--plugin-option", "OPENAI_MODEL=fake-model"}, env_for(fake, cache));

    const auto no_prompt = http(w.port(), "POST", "/v1/completions", R"({"max_tokens": 5})");
    CHECK(no_prompt.status == 422);
    CHECK_THAT(no_prompt.body, Catch::Contains("prompt"));
    const auto no_messages = http(w.port(), "POST", "/v1/chat/completions", R"({"messages": "Hi"})");
    CHECK(no_messages.status == 422);
    CHECK_THAT(no_messages.body, Catch::Contains("messages"));
    const auto zero = http(w.port(), "POST", "/v1/completions", R"({"prompt": "Hi", "max_tokens": 0})");
    CHECK(zero.status == 422);
    CHECK_THAT(zero.body, Catch::Contains("max_tokens"));
    CHECK(stat(fake.stats(), "requests") == 0);

    // Over this model's context: vLLM's 400, streamed or not, as vLLM wrote it.
    for (const char* stream : {"false", "true"}) {
        INFO("stream " << stream);
        const auto res = http(w.port(), "POST", "/v1/completions",
                              std::string(R"({"prompt": "Hi", "max_tokens": 500, "stream": )") + stream + "}");
        CHECK(res.status == 400);
        CHECK(json::parse(res.body).as_object().at("type") == "BadRequestError");
    }
    CHECK(stat(fake.stats(), "requests") == 2);
}

TEST_CASE("openai: ready after vLLM's start-up line and a benchmark through /v1/completions",
          "[integration][openai][readiness]") {
    FakeModelServer fake("openai", {"--token-delay", "0.001", "--load-delay", "0.5"});
    WorkerProcess w(artifact(OPENAI_PLUGIN), {},
                    {{"UNSECURED", "true"}, {"MODEL_SERVER_URL", fake.url()}, {"MODEL_LOG", fake.log_path().string()}});
    CHECK(http(w.port(), "GET", "/readyz").status == 503);
    REQUIRE(wait_ready(w.port(), 200));
    // A warm-up and 2 runs of 100 (core/protocol.md §11), 250 random words and max_tokens 500 each.
    const auto stats = fake.stats();
    CHECK(stat(stats, "requests") == 1 + 2 * 100);
    CHECK(path_count(stats, "/v1/completions") == 1 + 2 * 100);
    const auto& last = stats.at("last_body").as_object();
    CHECK(last.at("max_tokens") == 500);
    CHECK(last.at("model") == "fake-model");  // learnt from /v1/models
    CHECK(metric(w.port(), "cppworker_max_perf") > 0);
    CHECK(metric(w.port(), "cppworker_requests_total{outcome=\"success\"}") == 0);
}

TEST_CASE("openai: vLLM's start-up traceback keeps the worker unready", "[integration][openai][readiness]") {
    FakeModelServer fake("openai", {"--fail-start", "--load-delay", "0.1"});
    CachedBenchmark cache;
    auto env = env_for(fake, cache);
    env["MODEL_LOG"] = fake.log_path().string();
    WorkerProcess w(artifact(OPENAI_PLUGIN), {}, env);
    CHECK(w.wait_for_log("model log error: Traceback (most recent call last):"));
    REQUIRE(w.wait_for_log("model log error: RuntimeError: Engine core initialization failed"));
    check_error_outlives_loading(w, fake);
}
