// auth::python_b64decode, Python's base64.b64decode(s) with validate=False: bytes encoded
// canonically decode back whatever junk is sprinkled in; characters outside the alphabet never
// change the result; non-ASCII is always refused; the output length follows from the input.
#include "fuzz_support.hpp"

#include "auth/base64.hpp"

#include <optional>
#include <string>

namespace cppworker_fuzz {
namespace {

constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string encode(std::string_view bytes) {
    std::string out;
    std::size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        const unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                           static_cast<unsigned char>(bytes[i + 2]);
        for (int s = 18; s >= 0; s -= 6) out += alphabet[(v >> s) & 63];
    }
    if (bytes.size() - i == 1) {
        const unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
        out += alphabet[(v >> 18) & 63];
        out += alphabet[(v >> 12) & 63];
        out += "==";
    } else if (bytes.size() - i == 2) {
        const unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8);
        out += alphabet[(v >> 18) & 63];
        out += alphabet[(v >> 12) & 63];
        out += alphabet[(v >> 6) & 63];
        out += '=';
    }
    return out;
}

bool in_alphabet(char c) { return alphabet.find(c) != std::string_view::npos; }

}  // namespace

int run_base64(const uint8_t* data, std::size_t size) {
    Reader in(data, size);
    const uint8_t mode = in.byte();
    if (mode & 1) {
        // Round trip: canonical base64 of the rest, with ASCII junk (no '=') inserted.
        const uint8_t junk = in.byte();
        const uint8_t every = static_cast<uint8_t>(in.byte() | 1);
        const std::string raw(in.rest());
        const std::string canonical = encode(raw);
        std::string noisy;
        const char filler = static_cast<char>(junk & 0x7F);
        const bool usable = !in_alphabet(filler) && filler != '=';
        for (std::size_t i = 0; i < canonical.size(); ++i) {
            if (usable && i % every == 0) noisy += filler;
            noisy += canonical[i];
        }
        if (usable) noisy += filler;
        const auto decoded = cppworker::auth::python_b64decode(canonical);
        FUZZ_CHECK(decoded && *decoded == raw);
        const auto decoded_noisy = cppworker::auth::python_b64decode(noisy);
        FUZZ_CHECK(decoded_noisy && *decoded_noisy == raw);
        // Whatever follows a completed group's padding is ignored.
        if (!canonical.empty() && canonical.back() == '=') {
            const auto trailing = cppworker::auth::python_b64decode(canonical + "QUJD" + std::string(1, filler) + "x");
            FUZZ_CHECK(trailing && *trailing == raw);
        }
        return 0;
    }
    const std::string text(in.rest());
    const auto decoded = cppworker::auth::python_b64decode(text);
    bool ascii = true;
    std::string kept;  // the alphabet and the pads, the only characters that count
    std::size_t data_chars = 0;
    for (const char c : text) {
        if (static_cast<unsigned char>(c) >= 0x80) ascii = false;
        if (in_alphabet(c) || c == '=') kept += c;
        if (in_alphabet(c)) ++data_chars;
    }
    if (!ascii) {
        FUZZ_CHECK(!decoded);
        return 0;
    }
    FUZZ_CHECK(cppworker::auth::python_b64decode(kept) == decoded);
    if (decoded) {
        // Each byte out takes 8 bits of the sextets read; at most 3 bytes per 4 characters.
        FUZZ_CHECK(decoded->size() * 4 <= data_chars * 3);
        // Decoding stops at a completed group, so the bytes out re-encode to a prefix of the input's
        // data characters, up to the final group's padding.
        std::string data_only;
        for (const char c : kept)
            if (c != '=') data_only += c;
        std::string again = encode(*decoded);
        while (!again.empty() && again.back() == '=') again.pop_back();
        // The last character of a padded group may carry bits that are dropped: compare the rest.
        if (!again.empty()) {
            FUZZ_CHECK(data_only.size() >= again.size());
            FUZZ_CHECK(data_only.compare(0, again.size() - 1, again, 0, again.size() - 1) == 0);
        }
    } else {
        // Refused ASCII input ends inside a group: the data characters do not fill whole quads.
        FUZZ_CHECK(data_chars % 4 != 0);
    }
    return 0;
}

}  // namespace cppworker_fuzz
