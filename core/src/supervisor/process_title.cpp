#include "supervisor/process_title.hpp"

#include <charconv>

#include <sys/prctl.h>

namespace cppworker::supervisor {

namespace {
constexpr std::string_view marker = ": worker (generation ";
}

std::string worker_title(std::string_view name, int generation) {
    return std::string(name) + std::string(marker) + std::to_string(generation) + ")";
}

std::optional<TitleParts> parse_worker_title(std::string_view title) {
    const auto at = title.rfind(marker);
    if (at == std::string_view::npos || at == 0 || !title.ends_with(')')) return std::nullopt;
    const auto digits = title.substr(at + marker.size(), title.size() - at - marker.size() - 1);
    TitleParts parts{std::string(title.substr(0, at)), 0};
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), parts.generation);
    if (ec != std::errc() || end != digits.data() + digits.size() || digits.empty() || parts.generation < 0) {
        return std::nullopt;
    }
    return parts;
}

std::string process_name() {
    char name[16] = {};
    if (::prctl(PR_GET_NAME, name) != 0) return "cppworker";
    return name;
}

void set_process_name(const std::string& name) { ::prctl(PR_SET_NAME, name.substr(0, 15).c_str()); }

}  // namespace cppworker::supervisor
