// Shared by the fuzz targets: the checks they make, a reader that carves structured input out of
// the fuzzer's bytes, and the list of targets. Each target's body is a plain function, so the
// libFuzzer executables (clang, tests/fuzz/libfuzzer_main.cpp) and the replay test of the normal
// build (g++, tests/fuzz/replay_test.cpp) run the same code over the same inputs.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

namespace cppworker_fuzz {

// A failed check aborts whatever the build (RelWithDebInfo defines NDEBUG, so no assert): libFuzzer
// sees a deadly signal and keeps the input, the replay test dies naming the file it was running.
// The replay test names the file it is running here, so a failure says which input it was.
inline const char* current_input = nullptr;

[[noreturn]] inline void check_failed(const char* what, const char* file, int line) {
    std::fprintf(stderr, "fuzz check failed: %s (%s:%d)%s%s\n", what, file, line, current_input ? " on input " : "",
                 current_input ? current_input : "");
    std::fflush(stderr);
    std::abort();
}

#define FUZZ_CHECK(cond) \
    ((cond) ? static_cast<void>(0) : ::cppworker_fuzz::check_failed(#cond, __FILE__, __LINE__))

// Carves values from the front of the input; past the end everything reads as zero / empty.
class Reader {
public:
    Reader(const uint8_t* data, std::size_t size) : data_(data), size_(size) {}

    bool empty() const { return pos_ >= size_; }
    std::size_t remaining() const { return size_ - pos_; }

    uint8_t byte() { return pos_ < size_ ? data_[pos_++] : 0; }
    bool flag() { return (byte() & 1) != 0; }
    uint16_t u16() { return static_cast<uint16_t>(byte() | (byte() << 8)); }
    uint32_t u32() { return static_cast<uint32_t>(u16()) | (static_cast<uint32_t>(u16()) << 16); }
    uint64_t u64() { return static_cast<uint64_t>(u32()) | (static_cast<uint64_t>(u32()) << 32); }
    double f64() {
        const uint64_t bits = u64();
        double d;
        std::memcpy(&d, &bits, sizeof d);
        return d;
    }

    std::string_view bytes(std::size_t n) {
        n = std::min(n, remaining());
        std::string_view out(reinterpret_cast<const char*>(data_) + pos_, n);
        pos_ += n;
        return out;
    }
    // Up to (not including) the next NUL, which is consumed.
    std::string_view until_nul() {
        const std::string_view all = rest_view();
        const auto nul = all.find('\0');
        const auto n = nul == std::string_view::npos ? all.size() : nul;
        pos_ += nul == std::string_view::npos ? n : n + 1;
        return all.substr(0, n);
    }
    std::string_view rest() {
        const auto out = rest_view();
        pos_ = size_;
        return out;
    }

private:
    std::string_view rest_view() const {
        return pos_ < size_ ? std::string_view(reinterpret_cast<const char*>(data_) + pos_, size_ - pos_)
                            : std::string_view();
    }

    const uint8_t* data_;
    std::size_t size_;
    std::size_t pos_ = 0;
};

// Strict UTF-8 (RFC 3629), written apart from the code under test.
inline bool is_utf8(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto b = static_cast<unsigned char>(s[i]);
        std::size_t n;
        unsigned char lo = 0x80, hi = 0xBF;
        if (b < 0x80) { ++i; continue; }
        if (b >= 0xC2 && b <= 0xDF) n = 2;
        else if (b == 0xE0) { n = 3; lo = 0xA0; }
        else if (b == 0xED) { n = 3; hi = 0x9F; }
        else if (b >= 0xE1 && b <= 0xEF) n = 3;
        else if (b == 0xF0) { n = 4; lo = 0x90; }
        else if (b >= 0xF1 && b <= 0xF3) n = 4;
        else if (b == 0xF4) { n = 4; hi = 0x8F; }
        else return false;
        if (s.size() - i < n) return false;
        for (std::size_t k = 1; k < n; ++k) {
            const auto c = static_cast<unsigned char>(s[i + k]);
            if (k == 1 ? (c < lo || c > hi) : (c < 0x80 || c > 0xBF)) return false;
        }
        i += n;
    }
    return true;
}

inline std::string ascii_lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

inline std::string ascii_upper(std::string_view s) {
    std::string out(s);
    for (auto& c : out)
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    return out;
}

// The targets: X(name) for each; the body of target `name` is run_<name>.
#define CPPWORKER_FUZZ_TARGETS(X) \
    X(envelope)                   \
    X(pyjson_dumps)               \
    X(float_repr)                 \
    X(signature_message)          \
    X(base64)                     \
    X(log_lines)                  \
    X(log_long_lines)             \
    X(log_matcher)                \
    X(descriptor_check)           \
    X(answer_rules)               \
    X(sse_counters)               \
    X(url)                        \
    X(json_pointer)

#define CPPWORKER_FUZZ_DECLARE(name) int run_##name(const uint8_t* data, std::size_t size);
CPPWORKER_FUZZ_TARGETS(CPPWORKER_FUZZ_DECLARE)
#undef CPPWORKER_FUZZ_DECLARE

}  // namespace cppworker_fuzz
