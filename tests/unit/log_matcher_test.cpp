#include "readiness/log_matcher.hpp"

#include <catch2/catch.hpp>

using namespace cppworker::readiness;

namespace {

// The actions of PyWorker's examples (core/protocol.md §11).
LogMatcher tgi() {
    return LogMatcher({R"("message":"Connected","target":"text_generation_router")"},
                      {"Error: WebserverFailed", "Error: DownloadError", "Error: ShardCannotStart"}, {});
}

LogMatcher vllm() {
    return LogMatcher({"Application startup complete."},
                      {"INFO exited: vllm", "RuntimeError: Engine", "Traceback (most recent call last):"},
                      {R"("message":"Download)"});
}

}  // namespace

TEST_CASE("log matcher: TGI's loaded and error lines", "[unit][readiness]") {
    const auto m = tgi();

    const auto loaded = m.match(R"({"timestamp":"2024-05-01T10:00:00.123456Z","level":"INFO",)"
                                R"("message":"Connected","target":"text_generation_router",)"
                                R"("filename":"router/src/main.rs","line_number":367})");
    CHECK(loaded.action == LogAction::loaded);
    CHECK(loaded.pattern == R"("message":"Connected","target":"text_generation_router")");

    // Containment is exact: newer TGI's target needs a pattern of its own.
    CHECK(m.match(R"({"message":"Connected","target":"text_generation_router::server"})").action ==
          LogAction::none);

    // The error reported is the pattern, not the line.
    const auto error = m.match("2024-05-01T10:00:00.000000Z ERROR text_generation_launcher: Error: DownloadError");
    CHECK(error.action == LogAction::error);
    CHECK(error.pattern == "Error: DownloadError");
}

TEST_CASE("log matcher: vLLM's loaded, error, info and ordinary lines", "[unit][readiness]") {
    const auto m = vllm();

    const auto loaded = m.match("INFO:     Application startup complete.");
    CHECK(loaded.action == LogAction::loaded);
    CHECK(loaded.pattern == "Application startup complete.");

    const auto error = m.match("Traceback (most recent call last):");
    CHECK(error.action == LogAction::error);
    CHECK(error.pattern == "Traceback (most recent call last):");

    const auto info = m.match(R"({"message":"Downloading shards: 50%"})");
    CHECK(info.action == LogAction::info);
    CHECK(info.pattern == R"("message":"Download)");

    const auto none = m.match("INFO 05-01 10:00:00 llm_engine.py:100] Initializing an LLM engine");
    CHECK(none.action == LogAction::none);
    CHECK(none.pattern.empty());
}

TEST_CASE("log matcher: load patterns come first, then error, then info", "[unit][readiness]") {
    const auto m = vllm();

    CHECK(m.match("Application startup complete. Traceback (most recent call last):").action == LogAction::loaded);
    CHECK(m.match(R"({"message":"Download failed"} RuntimeError: Engine)").action == LogAction::error);

    // Within one kind, the first pattern listed wins wherever it sits in the line.
    const auto first_listed = m.match("Traceback (most recent call last): RuntimeError: Engine dead");
    CHECK(first_listed.pattern == "RuntimeError: Engine");
}

TEST_CASE("log matcher: substring containment, case-sensitive", "[unit][readiness]") {
    const auto m = vllm();

    CHECK(m.match("(APIServer pid=1) INFO:     Application startup complete. (took 40s)").action ==
          LogAction::loaded);
    CHECK(m.match("INFO:     application startup complete.").action == LogAction::none);
    CHECK(m.match("Application startup complete").action == LogAction::none);
}

TEST_CASE("log matcher: empty patterns are ignored", "[unit][readiness]") {
    CHECK(LogMatcher({""}, {""}, {""}).match("any line at all").action == LogAction::none);
    CHECK(LogMatcher({}, {}, {}).match("").action == LogAction::none);

    const auto m = LogMatcher({"", "ready"}, {""}, {});
    CHECK(m.match("not yet").action == LogAction::none);
    const auto hit = m.match("server ready");
    CHECK(hit.action == LogAction::loaded);
    CHECK(hit.pattern == "ready");
}
