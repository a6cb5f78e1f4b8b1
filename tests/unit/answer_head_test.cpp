// The one head writer of the worker's answers (http/answer_head.hpp).
#include "http1/answer_head.hpp"

#include <catch2/catch.hpp>

#include <regex>

using cppworker::http1::answer_head;
using cppworker::http1::Framing;

namespace {

// The head with its Date value replaced, which changes every second.
std::string head(unsigned version, unsigned status, std::string_view type,
                 const std::vector<std::pair<std::string, std::string>>& headers, Framing framing, std::size_t length,
                 bool keep_alive) {
    std::string text;
    answer_head(text, version, status, type, headers, framing, length, keep_alive);
    return std::regex_replace(text, std::regex("Date: [^\r]*\r\n"), "Date: *\r\n");
}

}  // namespace

TEST_CASE("answer head: a whole answer has its length, and Connection only where the version needs it",
          "[unit][http]") {
    CHECK(head(11, 200, "application/json", {}, Framing::length, 12, true) ==
          "HTTP/1.1 200 OK\r\nServer: cppworker\r\nDate: *\r\nContent-Type: application/json\r\n"
          "Content-Length: 12\r\n\r\n");
    CHECK(head(11, 404, "application/json", {}, Framing::length, 0, false) ==
          "HTTP/1.1 404 Not Found\r\nServer: cppworker\r\nDate: *\r\nContent-Type: application/json\r\n"
          "Content-Length: 0\r\nConnection: close\r\n\r\n");
    CHECK(head(10, 200, "", {}, Framing::length, 2, true) ==
          "HTTP/1.0 200 OK\r\nServer: cppworker\r\nDate: *\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\n");
}

TEST_CASE("answer head: a stream is chunked, and the answer's own framing fields are dropped", "[unit][http]") {
    const std::vector<std::pair<std::string, std::string>> own{
        {"X-Model", "m"}, {"content-length", "5"}, {"Transfer-Encoding", "gzip"}, {"Connection", "upgrade"}};
    CHECK(head(11, 200, "text/event-stream", own, Framing::chunked, 0, true) ==
          "HTTP/1.1 200 OK\r\nServer: cppworker\r\nDate: *\r\nContent-Type: text/event-stream\r\nX-Model: m\r\n"
          "Transfer-Encoding: chunked\r\n\r\n");
    CHECK(head(11, 200, "application/json", own, Framing::length, 3, true) ==
          "HTTP/1.1 200 OK\r\nServer: cppworker\r\nDate: *\r\nContent-Type: application/json\r\nX-Model: m\r\n"
          "Content-Length: 3\r\n\r\n");
}

TEST_CASE("answer head: 1xx, 204 and 304 carry no Content-Length", "[unit][http]") {
    for (const unsigned status : {101u, 204u, 304u}) {
        INFO(status);
        CHECK(head(11, status, "", {}, Framing::length, 0, true).find("Content-Length") == std::string::npos);
    }
    CHECK(head(11, 205, "", {}, Framing::length, 0, true).find("Content-Length: 0") != std::string::npos);
}
