#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_set>

namespace cppworker::auth {

// PyWorker's replay defence for the all-fields signature scheme (Gen 2, Gen 3 1.0.0): a request
// number far behind the newest one seen, or a message identical to one of the last 100 accepted,
// is refused. Not thread-safe; the caller locks.
class ReplayWindow {
public:
    static constexpr std::int64_t history_length = 100;  // PyWorker's MSG_HISTORY_LEN

    // Accepts and remembers (reqnum, message) unless reqnum < newest seen - 100 or message is among
    // the last 100 accepted. Call it only for requests whose signature verified, as PyWorker
    // remembers nothing about the others.
    bool admit(std::int64_t reqnum, const std::string& message);

private:
    std::int64_t max_seen_reqnum_ = -1;  // PyWorker's starting Backend.reqnum
    std::deque<std::string> accepted_;   // oldest first
    // Views into accepted_: a deque keeps its elements in place when either end changes.
    std::unordered_set<std::string_view> accepted_lookup_;
};

}  // namespace cppworker::auth
