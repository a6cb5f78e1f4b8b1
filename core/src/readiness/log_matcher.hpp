#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace cppworker::readiness {

enum class LogAction { none, loaded, error, info };

// The worker's log actions (PyWorker's LogActionConfig): which model-log line means "loaded",
// "errored" or "worth echoing". Matching is by substring containment, not by prefix as the docs
// say (core/protocol.md §14 item 1), testing every on_load pattern, then every on_error, then every
// on_info, in the order given.
//
// Only the first hit is reported. PyWorker keeps testing after a load or info hit and stops only
// at an error hit, so for it a line holding two load patterns runs the loaded sequence twice, and
// a line holding a load and an error pattern runs it and then errors the worker; here that line
// is only "loaded".
class LogMatcher {
public:
    struct Match {
        LogAction action = LogAction::none;
        // What matched. For an error it is also the message to report: PyWorker reports the
        // pattern, never the line.
        std::string pattern;
    };

    // Empty patterns are dropped: every line contains the empty string.
    LogMatcher(std::vector<std::string> on_load, std::vector<std::string> on_error, std::vector<std::string> on_info);

    Match match(std::string_view line) const;

private:
    void add(LogAction action, std::vector<std::string> patterns);

    std::vector<Match> rules_;
};

}  // namespace cppworker::readiness
