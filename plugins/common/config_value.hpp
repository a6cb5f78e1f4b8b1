// Reading numeric --plugin-option / environment values strictly: a typo in a launcher should stop
// the worker at start-up with a message, not become a silent default.
#pragma once

#include <charconv>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace plugin_common {

// `text` as a positive integer; `fallback` when empty; throws std::invalid_argument naming `key`.
inline uint64_t positive_integer(std::string_view key, std::string_view text, uint64_t fallback) {
    if (text.empty()) return fallback;
    uint64_t n = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc() || end != text.data() + text.size() || n == 0) {
        throw std::invalid_argument(std::string(key) + " must be a positive integer, not \"" + std::string(text) +
                                    "\"");
    }
    return n;
}

}  // namespace plugin_common
