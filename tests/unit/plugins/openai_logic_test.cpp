#include "openai/openai_logic.hpp"

#include "common/sse.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <iterator>
#include <set>
#include <sstream>
#include <string>

namespace json = boost::json;
using namespace openai_plugin;

namespace {

std::string error_of(std::string_view payload, Api api) {
    try {
        read_request(payload, api);
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    return "(accepted)";
}

double completion_workload(std::string_view payload) { return workload(read_request(payload, Api::completions)); }
double chat_workload(std::string_view payload) { return workload(read_request(payload, Api::chat)); }

// Counts a stream's output chunks fed in two pieces cut at `cut`.
uint64_t count_split(std::string_view stream, std::size_t cut) {
    plugin_common::SseSplitter s;
    uint64_t n = 0;
    const auto count = [&n](std::string_view e) { n += output_chunks(e); };
    s.feed(stream.substr(0, cut), count);
    s.feed(stream.substr(cut), count);
    s.finish(count);
    return n;
}

}  // namespace

TEST_CASE("openai: tokens are estimated as 4 bytes of text each, rounded up", "[unit][plugins][openai]") {
    CHECK(approx_tokens("") == 0);
    CHECK(approx_tokens("a") == 1);
    CHECK(approx_tokens("abcd") == 1);
    CHECK(approx_tokens("abcde") == 2);
    CHECK(approx_tokens(std::string(400, 'x')) == 100);
}

TEST_CASE("openai: a completion's workload is its prompt's tokens plus max_tokens", "[unit][plugins][openai]") {
    CHECK(completion_workload(R"({"prompt": "abcdefgh", "max_tokens": 100})") == 2 + 100);
    CHECK(completion_workload(R"({"model": "m", "prompt": "", "max_tokens": 1})") == 1);
    // Without max_tokens: 16, OpenAI's and vLLM's default.
    CHECK(completion_workload(R"({"prompt": "abcdefgh"})") == 2 + 16);
    CHECK(completion_workload(R"({"prompt": "abcdefgh", "max_tokens": null})") == 2 + 16);
    CHECK(workload(read_request(R"({"prompt": "abcdefgh"})", Api::completions, Defaults{50, 256})) == 2 + 50);
    // A list of prompts is that many generations.
    CHECK(completion_workload(R"({"prompt": ["abcd", "abcdefgh", "a"], "max_tokens": 10})") == (1 + 2 + 1) + 3 * 10);
    // Token ids count as they are.
    CHECK(completion_workload(R"({"prompt": [1, 2, 3, 4, 5], "max_tokens": 10})") == 5 + 10);
    CHECK(completion_workload(R"({"prompt": [[1, 2], [3, 4, 5]], "max_tokens": 10})") == 5 + 2 * 10);
    // n and best_of sequences per prompt.
    CHECK(completion_workload(R"({"prompt": "abcd", "max_tokens": 10, "n": 3})") == 1 + 30);
    CHECK(completion_workload(R"({"prompt": "abcd", "max_tokens": 10, "n": 2, "best_of": 4})") == 1 + 40);
}

TEST_CASE("openai: a chat's workload is its messages' text tokens plus max_tokens", "[unit][plugins][openai]") {
    CHECK(chat_workload(R"({"messages": [{"role": "system", "content": "abcd"},
                                         {"role": "user", "content": "abcdefgh"}], "max_tokens": 50})") == 3 + 50);
    // max_completion_tokens wins over the older max_tokens.
    CHECK(chat_workload(R"({"messages": [], "max_tokens": 50, "max_completion_tokens": 70})") == 70);
    CHECK(chat_workload(R"({"messages": [], "max_completion_tokens": 70})") == 70);
    // Without either: 256 stands for a typical answer.
    CHECK(chat_workload(R"({"messages": [{"role": "user", "content": "abcd"}]})") == 1 + 256);
    CHECK(workload(read_request(R"({"messages": []})", Api::chat, Defaults{16, 1000})) == 1000);
    // Content parts: text counts, images do not; a null content (tool calls) is nothing.
    CHECK(chat_workload(R"({"messages": [{"role": "user", "content": [
                            {"type": "text", "text": "abcdefgh"},
                            {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAAAAAAAAAAAAAAAAAAAAAA"}}]},
                          {"role": "assistant", "content": null, "tool_calls": []}],
                          "max_tokens": 5, "n": 2})") == 2 + 10);
}

TEST_CASE("openai: a payload that is no request is refused with the field's name", "[unit][plugins][openai]") {
    const auto completions = [](std::string_view p) { return error_of(p, Api::completions); };
    const auto chat = [](std::string_view p) { return error_of(p, Api::chat); };
    const std::string bad_prompt = R"(payload needs "prompt" as a string or a list of strings)";
    CHECK(completions("[]") == "payload must be a JSON object");
    CHECK(completions("{}") == bad_prompt);
    CHECK(completions(R"({"prompt": null})") == bad_prompt);
    CHECK(completions(R"({"prompt": 5})") == bad_prompt);
    CHECK(completions(R"({"prompt": []})") == bad_prompt);
    CHECK(completions(R"({"prompt": ["a", 5]})") == bad_prompt);
    CHECK(completions(R"({"prompt": [[]]})") == bad_prompt);
    CHECK(completions(R"({"prompt": {"text": "a"}})") == bad_prompt);
    CHECK(completions(R"({"prompt": "a", "max_tokens": 0})") == R"("max_tokens" must be a positive integer)");
    CHECK(completions(R"({"prompt": "a", "max_tokens": "5"})") == R"("max_tokens" must be a positive integer)");
    CHECK(completions(R"({"prompt": "a", "max_tokens": 2.5})") == R"("max_tokens" must be a positive integer)");
    CHECK(completions(R"({"prompt": "a", "n": -1})") == R"("n" must be a positive integer)");
    CHECK(completions(R"({"prompt": "a", "best_of": 0})") == R"("best_of" must be a positive integer)");

    const std::string bad_messages = R"(payload needs "messages" as a list of message objects)";
    CHECK(chat("{}") == bad_messages);
    CHECK(chat(R"({"messages": "hi"})") == bad_messages);
    CHECK(chat(R"({"messages": null})") == bad_messages);
    CHECK(chat(R"({"prompt": "hi"})") == bad_messages);
    CHECK(chat(R"({"messages": ["hi"]})") == R"(each of "messages" must be an object)");
    CHECK(chat(R"({"messages": [], "max_completion_tokens": -5})") ==
          R"("max_completion_tokens" must be a positive integer)");
    CHECK(chat(R"({"messages": [], "max_tokens": false})") == R"("max_tokens" must be a positive integer)");
}

TEST_CASE("openai: stream and model are read from the payload", "[unit][plugins][openai]") {
    const auto plain = read_request(R"({"prompt": "a"})", Api::completions);
    CHECK_FALSE(plain.stream);
    CHECK_FALSE(plain.has_model);
    const auto streamed = read_request(R"({"prompt": "a", "stream": true, "model": "m"})", Api::completions);
    CHECK(streamed.stream);
    CHECK(streamed.has_model);
    CHECK_FALSE(read_request(R"({"messages": [], "stream": false, "model": null})", Api::chat).stream);
    CHECK_FALSE(read_request(R"({"messages": [], "stream": "yes"})", Api::chat).stream);
    CHECK_FALSE(read_request(R"({"messages": [], "model": null})", Api::chat).has_model);
}

TEST_CASE("openai: the model's name is added only where none is named", "[unit][plugins][openai]") {
    const auto added = json::parse(with_model(R"({"prompt": "a", "max_tokens": 3})", "org/model-7b"));
    CHECK(added == json::parse(R"({"prompt": "a", "max_tokens": 3, "model": "org/model-7b"})"));
    CHECK(json::parse(with_model(R"({"prompt": "a", "model": null})", "m")) == json::parse(R"({"prompt": "a", "model": "m"})"));
    const std::string named = R"({"model":  "mine", "prompt": "a"})";
    CHECK(with_model(named, "other") == named);  // untouched, byte for byte
}

TEST_CASE("openai: the served model is the first of GET /v1/models", "[unit][plugins][openai]") {
    CHECK(first_model_id(R"({"object": "list", "data": [{"id": "fake-model", "object": "model"}, {"id": "lora"}]})") ==
          "fake-model");
    CHECK_FALSE(first_model_id(R"({"object": "list", "data": []})"));
    CHECK_FALSE(first_model_id(R"({"data": [{"name": "x"}]})"));
    CHECK_FALSE(first_model_id(R"({"data": [{"id": ""}]})"));
    CHECK_FALSE(first_model_id("Not Found"));
    CHECK_FALSE(first_model_id(""));
}

TEST_CASE("openai: benchmark payloads are 250 random words and max_tokens 500", "[unit][plugins][openai]") {
    std::set<std::string> prompts;
    for (uint32_t i = 0; i < 20; ++i) {
        const auto text = benchmark_payload(i, "");
        CHECK(text == benchmark_payload(i, ""));
        const auto v = json::parse(text).as_object();
        CHECK_FALSE(v.contains("model"));
        CHECK(v.at("max_tokens").to_number<int>() == 500);
        const std::string prompt(v.at("prompt").as_string());
        std::istringstream words(prompt);
        CHECK(std::distance(std::istream_iterator<std::string>(words), std::istream_iterator<std::string>()) == 250);
        CHECK(completion_workload(text) == approx_tokens(prompt) + 500);
        prompts.insert(prompt);
    }
    CHECK(prompts.size() == 20);
    const auto named = json::parse(benchmark_payload(3, "served", 8)).as_object();
    CHECK(named.at("model") == "served");
    CHECK(named.at("max_tokens").to_number<int>() == 8);
}

TEST_CASE("openai: streamed chunks with generated output are counted", "[unit][plugins][openai]") {
    CHECK(output_chunks(R"({"object":"text_completion","choices":[{"index":0,"text":" tok0","finish_reason":null}]})") == 1);
    CHECK(output_chunks(R"({"choices":[{"index":0,"text":""}]})") == 0);
    CHECK(output_chunks(R"({"choices":[{"index":0,"text":"a"},{"index":1,"text":"b"}]})") == 2);
    CHECK(output_chunks(R"({"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]})") == 0);
    CHECK(output_chunks(R"({"choices":[{"index":0,"delta":{"content":" tok1"}}]})") == 1);
    CHECK(output_chunks(R"({"choices":[{"index":0,"delta":{"reasoning_content":"hmm"}}]})") == 1);
    CHECK(output_chunks(R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{"}}]}}]})") == 1);
    CHECK(output_chunks(R"({"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":5}})") == 0);
    CHECK(output_chunks("[DONE]") == 0);
    CHECK(output_chunks(R"({"error": {"message": "boom"}})") == 0);
}

TEST_CASE("openai: a vLLM stream counts the same however it is split", "[unit][plugins][openai]") {
    std::string stream = "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n";
    for (int i = 0; i < 5; ++i) {
        stream += "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\" tok" + std::to_string(i) + "\"}}]}\n\n";
    }
    stream += "data: {\"choices\":[],\"usage\":{\"completion_tokens\":5}}\n\ndata: [DONE]\n\n";
    for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
        const auto n = count_split(stream, cut);
        if (n != 5) FAIL("split at " << cut << " counted " << n);
    }
}
