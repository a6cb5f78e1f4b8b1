#include "http1/head.hpp"

#include <catch2/catch.hpp>

using namespace cppworker::http1;

namespace {

std::string response(unsigned version, unsigned status, std::string_view reason, const Fields& fields) {
    std::string out = "(before)";
    response_head(out, version, status, reason, fields);
    REQUIRE(out.starts_with("(before)"));
    return out.substr(8);
}

}  // namespace

TEST_CASE("http1 head: a request head is the request line, the fields in order, and a blank line", "[http1]") {
    Fields fields;
    fields.set("Host", "127.0.0.1:5001");
    fields.set("Content-Length", "2");
    std::pmr::string head = "(before)";
    request_head(head, "POST", "/generate?x=1", fields);
    CHECK(head == "(before)POST /generate?x=1 HTTP/1.1\r\nHost: 127.0.0.1:5001\r\nContent-Length: 2\r\n\r\n");
}

TEST_CASE("http1 head: set replaces every field of that name whatever its case, and moves it last", "[http1]") {
    Fields fields;
    fields.set("Date", "ours");
    fields.set("X-One", "1");
    fields.set("date", "theirs");
    CHECK(fields.contains("DATE"));
    CHECK_FALSE(fields.contains("Server"));
    CHECK(response(11, 200, "OK", fields) == "HTTP/1.1 200 OK\r\nX-One: 1\r\ndate: theirs\r\n\r\n");
}

TEST_CASE("http1 head: a response head carries the request's version", "[http1]") {
    const Fields none;
    CHECK(response(10, 404, "Not Found", none) == "HTTP/1.0 404 Not Found\r\n\r\n");
    CHECK(response(11, 599, "<unknown-status>", none) == "HTTP/1.1 599 <unknown-status>\r\n\r\n");
}

TEST_CASE("http1 head: the framing fields are known whatever their case, and only whole", "[http1]") {
    CHECK(is_framing_field("content-length"));
    CHECK(is_framing_field("Transfer-Encoding"));
    CHECK(is_framing_field("CONNECTION"));
    CHECK_FALSE(is_framing_field("Content-Lengths"));
    CHECK_FALSE(is_framing_field("Content-Type"));
    CHECK_FALSE(is_framing_field("Host"));
}
