// readiness::LogMatcher: the first non-empty pattern contained in the line, testing load, then
// error, then info patterns in their order; none when no pattern is contained.
#include "fuzz_support.hpp"

#include "readiness/log_matcher.hpp"

#include <string>
#include <vector>

namespace cppworker_fuzz {

int run_log_matcher(const uint8_t* data, std::size_t size) {
    using cppworker::readiness::LogAction;
    Reader in(data, size);
    const uint8_t counts = in.byte();
    std::vector<std::string> lists[3];
    const std::size_t sizes[3] = {std::size_t(counts & 7), std::size_t((counts >> 3) & 7), std::size_t(counts >> 6)};
    for (int l = 0; l < 3; ++l)
        for (std::size_t i = 0; i < sizes[l]; ++i) lists[l].emplace_back(in.until_nul());
    const cppworker::readiness::LogMatcher matcher(lists[0], lists[1], lists[2]);
    constexpr LogAction actions[3] = {LogAction::loaded, LogAction::error, LogAction::info};

    std::vector<std::string> lines;
    while (!in.empty()) lines.emplace_back(in.until_nul());
    if (lines.empty()) lines.emplace_back();
    for (const auto& line : lines) {
        const auto match = matcher.match(line);
        LogAction expected = LogAction::none;
        std::string expected_pattern;
        for (int l = 0; l < 3 && expected == LogAction::none; ++l) {
            for (const auto& p : lists[l]) {
                if (!p.empty() && line.find(p) != std::string::npos) {
                    expected = actions[l];
                    expected_pattern = p;
                    break;
                }
            }
        }
        FUZZ_CHECK(match.action == expected);
        FUZZ_CHECK(match.pattern == expected_pattern);
    }
    return 0;
}

}  // namespace cppworker_fuzz
