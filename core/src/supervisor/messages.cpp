#include "supervisor/messages.hpp"

#include <fmt/format.h>

#include <charconv>
#include <vector>

namespace cppworker::supervisor {
namespace {

constexpr std::string_view names[] = {"ready", "counted", "final", "report"};

std::vector<std::string_view> words(std::string_view line) {
    std::vector<std::string_view> out;
    while (!line.empty()) {
        const auto space = line.find(' ');
        if (space != 0) out.push_back(line.substr(0, space));
        if (space == std::string_view::npos) break;
        line.remove_prefix(space + 1);
    }
    return out;
}

template <class T>
bool number(std::string_view text, T& out) {
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

std::string format_message(const Message& m) {
    const auto name = names[static_cast<int>(m.kind)];
    if (m.kind == Message::Kind::ready) return std::string(name) + "\n";
    const auto& c = m.counters;
    // {} prints the shortest text that reads back as the same double.
    return fmt::format("{} {} {} {} {} {} {}\n", name, c.received_ever, c.received, c.served, c.cancelled, c.errored,
                       c.rejected);
}

std::optional<Message> parse_message(std::string_view line) {
    const auto w = words(line);
    if (w.empty()) return std::nullopt;
    for (int k = 0; k < 4; ++k) {
        if (w[0] != names[k]) continue;
        Message m{static_cast<Message::Kind>(k), {}};
        if (m.kind == Message::Kind::ready) return w.size() == 1 ? std::optional(m) : std::nullopt;
        auto& c = m.counters;
        if (w.size() != 7 || !number(w[1], c.received_ever) || !number(w[2], c.received) || !number(w[3], c.served) ||
            !number(w[4], c.cancelled) || !number(w[5], c.errored) || !number(w[6], c.rejected)) {
            return std::nullopt;
        }
        return m;
    }
    return std::nullopt;
}

}  // namespace cppworker::supervisor
