#include "http1/http_date.hpp"

#include <fmt/format.h>

namespace cppworker::http1 {

std::string http_date(std::chrono::system_clock::time_point t) {
    using namespace std::chrono;
    static constexpr const char* weekdays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static constexpr const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                             "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const auto day = floor<days>(t);
    const year_month_day date{day};
    const hh_mm_ss time{floor<seconds>(t - day)};
    const weekday wd{day};
    return fmt::format("{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT", weekdays[wd.c_encoding()],
                       static_cast<unsigned>(date.day()), months[static_cast<unsigned>(date.month()) - 1],
                       static_cast<int>(date.year()), time.hours().count(), time.minutes().count(),
                       time.seconds().count());
}

const std::string& http_date_now() {
    thread_local std::chrono::system_clock::time_point cached_second{};
    thread_local std::string cached;
    const auto second = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
    if (second != cached_second || cached.empty()) {
        cached_second = second;
        cached = http_date(second);
    }
    return cached;
}

}  // namespace cppworker::http1
