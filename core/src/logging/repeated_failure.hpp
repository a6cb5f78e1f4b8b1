#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>

namespace cppworker::logging {

// Which failures of an operation that keeps failing (reports to an address that is down, retried
// every few seconds) deserve a log line: the first at once, then at most one summary per interval
// while the failures go on, then one line when the operation works again. A log that repeats the
// same line every two seconds hides everything else in it.
//
// Values in, decision out: the caller passes the time and writes the line; nothing here reads a
// clock or logs. Not thread-safe: each loop owns its own.
class RepeatedFailure {
public:
    using Clock = std::chrono::steady_clock;

    explicit RepeatedFailure(Clock::duration interval) : interval_(interval) {}

    struct Line {
        enum class Kind { first, summary, recovered };
        Kind kind;
        // summary: failures since the previous line, this one included; recovered: failures in the
        // whole outage; first: 1.
        std::size_t failures;
        // summary: time since the previous line; recovered: time since the first failure.
        Clock::duration elapsed;
    };

    // A failure of `key` (an address and a path, say): the line to write now, if any.
    std::optional<Line> failed(const std::string& key, Clock::time_point now);
    // A success of `key`: a recovery line if it was failing.
    std::optional<Line> succeeded(const std::string& key, Clock::time_point now);

private:
    struct Outage {
        Clock::time_point first;
        Clock::time_point last_line;
        std::size_t total = 0;
        std::size_t since_line = 0;  // failures not yet counted in a line
    };

    Clock::duration interval_;
    std::map<std::string, Outage> outages_;
};

}  // namespace cppworker::logging
