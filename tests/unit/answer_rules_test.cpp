#include "upstream/answer_rules.hpp"
#include "upstream/relay_sink.hpp"

#include <catch2/catch.hpp>

using namespace cppworker::upstream;

TEST_CASE("answer rules: what streams is PyWorker's list", "[unit][upstream]") {
    CHECK(is_streaming_answer("text/event-stream", false));
    CHECK(is_streaming_answer("text/event-stream; charset=utf-8", false));
    CHECK(is_streaming_answer("application/x-ndjson", false));
    CHECK(is_streaming_answer("application/jsonl", false));
    CHECK(is_streaming_answer("Application/JSONL; charset=utf-8", false));
    CHECK(is_streaming_answer("application/vnd.custom-Stream+json", false));
    CHECK(is_streaming_answer("application/json", true));
    CHECK_FALSE(is_streaming_answer("application/json", false));
    CHECK_FALSE(is_streaming_answer("", false));
    CHECK_FALSE(is_streaming_answer("application/jsonlines", false));
    CHECK_FALSE(is_streaming_answer("image/png", false));
}

TEST_CASE("answer rules: connection and framing headers stay behind", "[unit][upstream]") {
    for (const char* name : {"Connection", "keep-alive", "Transfer-Encoding", "content-length", "Content-Type", "TE",
                             "Trailer", "Upgrade", "Proxy-Authenticate"}) {
        INFO(name);
        CHECK_FALSE(is_relayed_header(name));
    }
    for (const char* name : {"x-request-id", "Date", "Server", "Cache-Control", "x-compute-time"}) {
        INFO(name);
        CHECK(is_relayed_header(name));
    }
}

TEST_CASE("a failed forward answers 502, 504 or 500, with the reason, counted as failed", "[unit][upstream]") {
    auto down = failed_forward_answer(CPPW_UPSTREAM_UNREACHABLE, "cannot connect");
    CHECK(down.status == 502);
    CHECK(down.body == R"({"error": "cannot connect"})");
    CHECK(down.failed);
    CHECK(failed_forward_answer(CPPW_UPSTREAM_TIMEOUT, "slow").status == 504);
    CHECK(failed_forward_answer(CPPW_ERROR, "malformed").status == 500);
}
