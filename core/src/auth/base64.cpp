#include "auth/base64.hpp"

#include <algorithm>
#include <array>
#include <cstdint>

namespace cppworker::auth {

namespace {

constexpr std::uint8_t not_in_alphabet = 0xFF;

constexpr std::array<std::uint8_t, 128> make_decode_table() {
    std::array<std::uint8_t, 128> table{};
    table.fill(not_in_alphabet);
    constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (std::size_t i = 0; i < alphabet.size(); ++i) table[static_cast<unsigned char>(alphabet[i])] = static_cast<std::uint8_t>(i);
    return table;
}

constexpr auto decode_table = make_decode_table();

}  // namespace

// A transcription of CPython's binascii_a2b_base64_impl with strict_mode off; the quirks (a pad
// counter reset only by data characters, leftover bits never checked) are deliberate.
std::optional<std::string> python_b64decode(std::string_view text) {
    // Python refuses a str with a non-ASCII character before decoding anything ("string argument
    // should contain only ASCII characters"), so one after a completed group's padding, which the
    // loop below would never reach, is refused too.
    if (std::any_of(text.begin(), text.end(), [](char ch) { return static_cast<unsigned char>(ch) >= 0x80; })) {
        return std::nullopt;
    }
    std::string out;
    out.reserve((text.size() + 3) / 4 * 3);
    int quad_pos = 0;
    int pads = 0;
    unsigned leftover = 0;
    for (const char ch : text) {
        const auto byte = static_cast<unsigned char>(ch);  // < 0x80, checked above
        if (byte == '=') {
            if (quad_pos >= 2 && quad_pos + ++pads >= 4) return out;
            continue;
        }
        const unsigned sextet = decode_table[byte];
        if (sextet == not_in_alphabet) continue;
        pads = 0;
        switch (quad_pos) {
            case 0:
                leftover = sextet;
                break;
            case 1:
                out += static_cast<char>((leftover << 2) | (sextet >> 4));
                leftover = sextet & 0x0F;
                break;
            case 2:
                out += static_cast<char>((leftover << 4) | (sextet >> 2));
                leftover = sextet & 0x03;
                break;
            case 3:
                out += static_cast<char>((leftover << 6) | sextet);
                break;
        }
        quad_pos = (quad_pos + 1) % 4;
    }
    if (quad_pos != 0) return std::nullopt;
    return out;
}

}  // namespace cppworker::auth
