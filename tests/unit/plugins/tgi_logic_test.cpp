#include "tgi/tgi_logic.hpp"

#include "common/config_value.hpp"
#include "common/sse.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <iterator>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace json = boost::json;
using namespace tgi_plugin;

namespace {

std::string error_of(std::string_view payload) {
    try {
        max_new_tokens(payload);
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    return "(accepted)";
}

// Events as TGI's axum Sse writes them ("data:" without a space), the last one with the text.
std::string tgi_stream(int tokens) {
    std::string out;
    for (int i = 0; i < tokens; ++i) {
        out += R"(data:{"index":)" + std::to_string(i + 1) + R"(,"token":{"id":)" + std::to_string(1000 + i) +
               R"(,"text":" tok)" + std::to_string(i) + R"(","logprob":-0.1,"special":false},"generated_text":)" +
               (i == tokens - 1 ? std::string(R"(" tok0 ... \"token\": {}")") : "null") + R"(,"details":null})" +
               "\n\n";
    }
    return out;
}

std::vector<std::string> events_of(const std::vector<std::string_view>& pieces) {
    plugin_common::SseSplitter s;
    std::vector<std::string> out;
    const auto keep = [&out](std::string_view e) { out.emplace_back(e); };
    for (auto p : pieces) s.feed(p, keep);
    s.finish(keep);
    return out;
}

}  // namespace

TEST_CASE("tgi: workload is parameters.max_new_tokens", "[unit][plugins][tgi]") {
    CHECK(workload(R"({"inputs": "Hello", "parameters": {"max_new_tokens": 128}})") == 128.0);
    CHECK(workload(R"({"inputs": "", "parameters": {"max_new_tokens": 1, "temperature": 0.5}})") == 1.0);
    CHECK(workload(R"({"inputs": "x", "parameters": {"max_new_tokens": 4294967295}})") == 4294967295.0);
}

TEST_CASE("tgi: without max_new_tokens the workload is TGI's default", "[unit][plugins][tgi]") {
    CHECK(default_max_new_tokens == 100);
    CHECK(workload(R"({"inputs": "Hello"})") == 100.0);
    CHECK(workload(R"({"inputs": "Hello", "parameters": {}})") == 100.0);
    CHECK(workload(R"({"inputs": "Hello", "parameters": null})") == 100.0);
    CHECK(workload(R"({"inputs": "Hello", "parameters": {"max_new_tokens": null}})") == 100.0);
    CHECK(workload(R"({"inputs": "Hello"})", 20) == 20.0);  // TGI_DEFAULT_MAX_NEW_TOKENS=20
}

TEST_CASE("tgi: a payload that is no generate request is refused with the field's name", "[unit][plugins][tgi]") {
    CHECK(error_of(R"([1, 2])") == "payload must be a JSON object");
    CHECK(error_of(R"({})") == R"(payload needs "inputs" as a string)");
    CHECK(error_of(R"({"inputs": 42})") == R"(payload needs "inputs" as a string)");
    CHECK(error_of(R"({"inputs": ["a"]})") == R"(payload needs "inputs" as a string)");
    CHECK(error_of(R"({"inputs": "a", "parameters": 5})") == R"("parameters" must be an object)");
    for (const char* bad : {"0", "-3", "1.5", "128.0", "\"128\"", "true", "4294967296", "18446744073709551615"}) {
        INFO(bad);
        CHECK(error_of(std::string(R"({"inputs": "a", "parameters": {"max_new_tokens": )") + bad + "}}") ==
              R"("parameters.max_new_tokens" must be a positive integer)");
    }
}

TEST_CASE("tgi: benchmark payloads are 250 random words and max_new_tokens 128", "[unit][plugins][tgi]") {
    std::set<std::string> prompts;
    for (uint32_t i = 0; i < 20; ++i) {
        const auto text = benchmark_payload(i);
        CHECK(text == benchmark_payload(i));  // the same on every run
        CHECK(workload(text) == 128.0);
        const auto v = json::parse(text).as_object();
        const std::string inputs(v.at("inputs").as_string());
        std::istringstream words(inputs);
        CHECK(std::distance(std::istream_iterator<std::string>(words), std::istream_iterator<std::string>()) == 250);
        prompts.insert(inputs);
    }
    CHECK(prompts.size() == 20);
}

TEST_CASE("tgi: stream tokens are counted from token events only", "[unit][plugins][tgi]") {
    CHECK(token_events(R"({"index":1,"token":{"id":5,"text":" a","logprob":-0.1,"special":false},"generated_text":null,"details":null})") == 1);
    CHECK(token_events(R"({"token": {"id": 5, "text": " a"}})") == 1);
    CHECK(token_events(R"({"error":"Input validation error: `inputs` cannot be empty","error_type":"validation"})") == 0);
    CHECK(token_events(R"({"generated_text": "\"token\":{}"})") == 0);
    CHECK(token_events("[DONE]") == 0);
    CHECK(token_events("") == 0);
    CHECK(token_events(R"({"token": null})") == 0);
}

TEST_CASE("tgi: a stream counts the same however it is split", "[unit][plugins][tgi]") {
    const auto stream = tgi_stream(7);
    {
        TokenCounter c;
        CHECK(c.feed(stream) + c.finish() == 7);
    }
    // Every split point, including inside "data:", inside the JSON and between the two newlines.
    for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
        TokenCounter c;
        const auto n = c.feed(std::string_view(stream).substr(0, cut)) + c.feed(std::string_view(stream).substr(cut)) +
                       c.finish();
        if (n != 7) FAIL("split at " << cut << " counted " << n);
    }
    // One byte at a time.
    TokenCounter c;
    uint64_t n = 0;
    for (char ch : stream) n += c.feed(std::string_view(&ch, 1));
    CHECK(n + c.finish() == 7);
}

TEST_CASE("tgi: a token is counted when its event ends, not before", "[unit][plugins][tgi]") {
    TokenCounter c;
    CHECK(c.feed(R"(data:{"token":{"id":1,"text":"a"}})") == 0);
    CHECK(c.feed("\n") == 0);
    CHECK(c.feed("\n") == 1);
    CHECK(c.feed("data:{\"token\":{\"id\":2}}\r\n\r\n") == 1);  // CRLF line ends
    CHECK(c.feed(R"(data:{"token":{"id":3}})") == 0);
    CHECK(c.finish() == 1);  // a last event without its blank line still counts
}

TEST_CASE("sse: events are assembled as the SSE spec says", "[unit][plugins][sse]") {
    CHECK(events_of({"data: a\n\n", "data:b\n\n"}) == std::vector<std::string>{"a", "b"});
    CHECK(events_of({"data:  two spaces\n\n"}) == std::vector<std::string>{" two spaces"});
    CHECK(events_of({"data: line1\ndata: line2\n\n"}) == std::vector<std::string>{"line1\nline2"});
    CHECK(events_of({": keep-alive comment\n\n", "event: ping\nid: 3\nretry: 10\n\n"}).empty());
    CHECK(events_of({"event: message\ndata: x\nid: 1\n\n"}) == std::vector<std::string>{"x"});
    CHECK(events_of({"data\n\n"}) == std::vector<std::string>{""});
    CHECK(events_of({"database: no\n\n"}).empty());
    CHECK(events_of({"data: a\n", "\n", "\n\n", "data: b\n\n"}) == std::vector<std::string>{"a", "b"});
}

TEST_CASE("sse: an endless line is dropped, and the stream after it still reads", "[unit][plugins][sse]") {
    plugin_common::SseSplitter s;
    std::vector<std::string> out;
    const auto keep = [&out](std::string_view e) { out.emplace_back(e); };
    s.feed("data: ", keep);
    const std::string megabyte(1 << 20, 'x');
    for (int i = 0; i < 9; ++i) s.feed(megabyte, keep);  // over the 8 MiB cap
    s.feed("\n\ndata: after\n\n", keep);
    s.finish(keep);
    CHECK(out == std::vector<std::string>{"after"});
}

TEST_CASE("config values: positive integers or a start-up error", "[unit][plugins]") {
    using plugin_common::positive_integer;
    CHECK(positive_integer("K", "", 7) == 7);
    CHECK(positive_integer("K", "20", 7) == 20);
    for (const char* bad : {"0", "-1", "12abc", " 12", "1.5", "x"}) {
        INFO(bad);
        CHECK_THROWS_WITH(positive_integer("TGI_DEFAULT_MAX_NEW_TOKENS", bad, 7),
                          std::string("TGI_DEFAULT_MAX_NEW_TOKENS must be a positive integer, not \"") + bad + "\"");
    }
}
