#include "stream_logic.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace bench_streams;

namespace {

const std::string head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n";

std::string answer(uint32_t events, int64_t t0, int64_t interval) {
    std::string out = head;
    for (uint32_t k = 0; k < events; ++k) append_event_chunk(out, k, due_ns(t0, k, interval), k + 1 == events);
    return out + "0\r\n\r\n";
}

// Feeds `bytes` in pieces of `step` bytes and returns the events decoded.
std::vector<Event> decode(AnswerDecoder& d, const std::string& bytes, std::size_t step) {
    std::vector<Event> got;
    for (std::size_t at = 0; at < bytes.size(); at += step) {
        const bool ok = d.feed(std::string_view(bytes).substr(at, step), [&](std::string_view data) {
            const auto e = parse_event(data);
            REQUIRE(e);
            got.push_back(*e);
        });
        REQUIRE(ok);
    }
    return got;
}

}  // namespace

TEST_CASE("streams: the schedule is absolute from t0, event 0 at once", "[bench_streams]") {
    CHECK(due_ns(1'000, 0, 50) == 1'000);
    CHECK(due_ns(1'000, 3, 50) == 1'150);
    CHECK(events_due(1'000, 999, 50, 10) == 0);
    CHECK(events_due(1'000, 1'000, 50, 10) == 1);
    CHECK(events_due(1'000, 1'049, 50, 10) == 1);
    CHECK(events_due(1'000, 1'050, 50, 10) == 2);
    CHECK(events_due(1'000, 1'000'000, 50, 10) == 10);
}

TEST_CASE("streams: every event decodes with its id and due time, however the bytes are cut", "[bench_streams]") {
    const auto bytes = answer(5, 123'456'789, 50'000'000);
    for (const std::size_t step : {std::size_t{1}, std::size_t{2}, std::size_t{7}, std::size_t{64}, bytes.size()}) {
        AnswerDecoder d;
        const auto got = decode(d, bytes, step);
        REQUIRE(got.size() == 5);
        for (uint32_t k = 0; k < 5; ++k) {
            CHECK(got[k].id == k);
            CHECK(got[k].due_ns == 123'456'789 + int64_t{k} * 50'000'000);
            CHECK(got[k].last == (k == 4));
        }
        CHECK(d.status() == 200);
        CHECK(d.done());
    }
}

TEST_CASE("streams: chunks that split or join events decode the same events", "[bench_streams]") {
    std::string body;
    for (uint32_t k = 0; k < 3; ++k) {
        std::string chunk;
        append_event_chunk(chunk, k, 10 + k, k == 2);
        body += chunk.substr(chunk.find("\r\n") + 2, chunk.size() - chunk.find("\r\n") - 4);
    }
    // Re-chunked as a proxy may: 3 events in chunks of 40 bytes, hex sizes with an extension.
    std::string bytes = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n";
    for (std::size_t at = 0; at < body.size(); at += 40) {
        const auto piece = body.substr(at, 40);
        char hex[16];
        std::snprintf(hex, sizeof hex, "%zx;x=y", piece.size());
        bytes += std::string(hex) + "\r\n" + piece + "\r\n";
    }
    bytes += "0\r\nTrailer: 1\r\n\r\n";
    AnswerDecoder d;
    const auto got = decode(d, bytes, 5);
    REQUIRE(got.size() == 3);
    CHECK(got[2].due_ns == 12);
    CHECK(got[2].last);
    CHECK(d.done());
}

TEST_CASE("streams: a sized answer, a non-200 status and malformed chunks", "[bench_streams]") {
    AnswerDecoder sized;
    std::string event;
    append_event_chunk(event, 0, 7, true);
    const auto data = event.substr(event.find("\r\n") + 2, event.size() - event.find("\r\n") - 4);
    CHECK(decode(sized, "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(data.size()) + "\r\n\r\n" + data, 3)
              .size() == 1);
    CHECK(sized.done());

    AnswerDecoder refused;
    CHECK(refused.feed("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n", [](auto) {}));
    CHECK(refused.status() == 503);
    CHECK(refused.done());

    AnswerDecoder bad;
    CHECK_FALSE(bad.feed(head + "zz\r\n", [](auto) {}));
    CHECK_FALSE(bad.error().empty());

    AnswerDecoder no_crlf;
    CHECK_FALSE(no_crlf.feed(head + "3\r\nabcXY", [](auto) {}));
}

TEST_CASE("streams: parse_event reads TGI's shape and refuses anything else", "[bench_streams]") {
    const auto e = parse_event(R"({"token":{"id":12,"text":"987","logprob":-0.1,"special":false},)"
                               R"("generated_text":null,"details":null})");
    REQUIRE(e);
    CHECK(e->id == 12);
    CHECK(e->due_ns == 987);
    CHECK_FALSE(e->last);
    CHECK_FALSE(parse_event(R"({"error":"overloaded"})"));
    CHECK_FALSE(parse_event(R"({"token":{"id":1,"text":"hello"},"generated_text":null})"));
}

TEST_CASE("streams: percentiles are nearest-rank", "[bench_streams]") {
    std::vector<int64_t> v;
    for (int64_t i = 1; i <= 1000; ++i) v.push_back(i);
    CHECK(percentile(v, 50) == 500);
    CHECK(percentile(v, 99) == 990);
    CHECK(percentile(v, 99.9) == 999);
    CHECK(percentile(v, 100) == 1000);
    CHECK(percentile(v, 0) == 1);
    CHECK(percentile({}, 50) == 0);
    CHECK(percentile({42}, 99.9) == 42);
}
