#include "http1/http_date.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <regex>

using namespace std::chrono;
using cppworker::http1::http_date;
using cppworker::http1::http_date_now;

namespace {

system_clock::time_point at(int y, unsigned m, unsigned d, int hh, int mm, int ss, int ms = 0) {
    return sys_days{year{y} / month{m} / day{d}} + hours{hh} + minutes{mm} + seconds{ss} + milliseconds{ms};
}

}  // namespace

TEST_CASE("http date: RFC 7231 IMF-fixdate in GMT", "[unit][http_date]") {
    CHECK(http_date(at(2026, 12, 2, 4, 31, 44)) == "Wed, 02 Dec 2026 04:31:44 GMT");
    CHECK(http_date(at(1994, 11, 6, 8, 49, 37)) == "Sun, 06 Nov 1994 08:49:37 GMT");  // RFC 7231's example
    CHECK(http_date(system_clock::time_point{}) == "Thu, 01 Jan 1970 00:00:00 GMT");
    CHECK(http_date(at(2024, 2, 29, 23, 59, 59, 999)) == "Thu, 29 Feb 2024 23:59:59 GMT");  // fractions dropped
    CHECK(http_date(at(2000, 1, 1, 0, 0, 0)) == "Sat, 01 Jan 2000 00:00:00 GMT");
    CHECK(http_date(at(2031, 7, 14, 12, 5, 9)) == "Mon, 14 Jul 2031 12:05:09 GMT");
}

TEST_CASE("http date: the cached value is the current second's", "[unit][http_date]") {
    const auto before = floor<seconds>(system_clock::now());
    const std::string now = http_date_now();
    const auto after = floor<seconds>(system_clock::now());
    CHECK((now == http_date(before) || now == http_date(after)));
    CHECK(std::regex_match(now, std::regex(R"([A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT)")));
}
