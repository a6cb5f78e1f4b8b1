#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

// The lines master and worker exchange over their socket pair, one message a line:
//   worker → master: "ready"                  accepting (a reload's worker: once its plugin is loaded)
//                    "counted <counters>"     a status report was accepted with these figures
//                    "final <counters>"       its last report is sent; what it could not deliver
//   master → worker: "report <counters>"      the reporting token, with the figures to continue from
// Counters travel as text so that a mismatch shows up as a refused line, not as garbage numbers.
namespace cppworker::supervisor {

// What one worker hands the next so the autoscaler sees one continuous series: the cumulative
// num_requests_recieved, and interval sums no accepted report has carried yet.
struct Counters {
    std::size_t received_ever = 0;
    double received = 0, served = 0, cancelled = 0, errored = 0, rejected = 0;
    bool operator==(const Counters&) const = default;
};

struct Message {
    enum class Kind { ready, counted, final_counters, report };
    Kind kind;
    Counters counters;
};

std::string format_message(const Message& m);  // one line, '\n' included
// A line without its '\n'; nothing when it is not a message.
std::optional<Message> parse_message(std::string_view line);

}  // namespace cppworker::supervisor
