#pragma once

#include <chrono>
#include <string>

namespace cppworker::http1 {

// RFC 7231's IMF-fixdate of `t`, truncated to the second: "Wed, 02 Dec 2026 04:31:44 GMT".
// Formatted by hand: strftime's names follow the locale, the header's do not.
std::string http_date(std::chrono::system_clock::time_point t);

// The Date header's value for an answer written now. Every answer carries one, so each thread keeps
// the text of the current second and formats again only when the second changes.
const std::string& http_date_now();

}  // namespace cppworker::http1
