// readiness::LineAssembler, the model log's line splitter: the same lines however the file's bytes
// are cut into reads, and the lines Python gets from open(encoding="utf-8", errors="ignore") and
// line.rstrip(), by an oracle written here.
#include "fuzz_support.hpp"

#include "readiness/log_tail.hpp"

#include <algorithm>
#include <string>
#include <vector>

namespace cppworker_fuzz {
namespace {

using cppworker::readiness::LineAssembler;

// Python's UTF-8 decoder with errors="ignore": each maximal ill-formed subpart is dropped.
std::u32string decode_ignoring(std::string_view s) {
    std::u32string out;
    std::size_t i = 0;
    while (i < s.size()) {
        const auto b = static_cast<unsigned char>(s[i]);
        if (b < 0x80) {
            out += b;
            ++i;
            continue;
        }
        std::size_t n = 0;
        unsigned char lo = 0x80, hi = 0xBF;
        char32_t cp = 0;
        if (b >= 0xC2 && b <= 0xDF) { n = 2; cp = b & 0x1F; }
        else if (b >= 0xE0 && b <= 0xEF) { n = 3; cp = b & 0x0F; if (b == 0xE0) lo = 0xA0; if (b == 0xED) hi = 0x9F; }
        else if (b >= 0xF0 && b <= 0xF4) { n = 4; cp = b & 0x07; if (b == 0xF0) lo = 0x90; if (b == 0xF4) hi = 0x8F; }
        if (n == 0) { ++i; continue; }
        std::size_t j = i + 1;
        for (; j < i + n && j < s.size(); ++j) {
            const auto c = static_cast<unsigned char>(s[j]);
            if (j == i + 1 ? (c < lo || c > hi) : (c < 0x80 || c > 0xBF)) break;
            cp = (cp << 6) | (c & 0x3F);
        }
        if (j == i + n) out += cp;
        i = j;
    }
    return out;
}

std::string encode(std::u32string_view text) {
    std::string out;
    for (const char32_t c : text) {
        if (c < 0x80) {
            out += static_cast<char>(c);
        } else if (c < 0x800) {
            out += static_cast<char>(0xC0 | (c >> 6));
            out += static_cast<char>(0x80 | (c & 0x3F));
        } else if (c < 0x10000) {
            out += static_cast<char>(0xE0 | (c >> 12));
            out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (c & 0x3F));
        } else {
            out += static_cast<char>(0xF0 | (c >> 18));
            out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
            out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (c & 0x3F));
        }
    }
    return out;
}

// str.isspace()
bool python_space(char32_t c) {
    static constexpr char32_t spaces[] = {0x09,   0x0A,   0x0B,   0x0C,   0x0D,   0x1C,   0x1D,   0x1E,   0x1F,
                                          0x20,   0x85,   0xA0,   0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004,
                                          0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200A, 0x2028, 0x2029, 0x202F,
                                          0x205F, 0x3000};
    return std::find(std::begin(spaces), std::end(spaces), c) != std::end(spaces);
}

// Universal newlines, then rstrip: what PyWorker's `for line in f: line.rstrip()` sees.
std::vector<std::string> python_lines(std::string_view bytes) {
    const std::u32string text = decode_ignoring(bytes);
    std::vector<std::string> lines;
    std::u32string line;
    bool open = false;
    auto end_line = [&] {
        while (!line.empty() && python_space(line.back())) line.pop_back();
        lines.push_back(encode(line));
        line.clear();
        open = false;
    };
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\r') {
            if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
            end_line();
        } else if (text[i] == '\n') {
            end_line();
        } else {
            line += text[i];
            open = true;
        }
    }
    if (open) end_line();
    return lines;
}

std::vector<std::string> assemble(std::string_view bytes, const std::vector<std::size_t>& cuts) {
    LineAssembler assembler;
    std::vector<std::string> lines;
    std::size_t from = 0;
    for (const auto cut : cuts) {
        const std::string piece(bytes.substr(from, cut - from));  // own allocation: ASan sees overreads
        assembler.feed(piece, lines);
        from = cut;
    }
    const std::string piece(bytes.substr(from));
    assembler.feed(piece, lines);
    assembler.finish(lines);
    return lines;
}

}  // namespace

int run_log_lines(const uint8_t* data, std::size_t size) {
    Reader in(data, size);
    std::vector<std::size_t> cuts(in.byte() & 7);
    for (auto& c : cuts) c = in.u16();
    const std::string bytes(in.rest());
    for (auto& c : cuts) c %= bytes.size() + 1;
    std::sort(cuts.begin(), cuts.end());

    const auto whole = assemble(bytes, {});
    FUZZ_CHECK(assemble(bytes, cuts) == whole);
    FUZZ_CHECK(whole == python_lines(bytes));
    for (const auto& line : whole) {
        FUZZ_CHECK(is_utf8(line));
        FUZZ_CHECK(line.find_first_of("\r\n") == std::string::npos);
    }
    return 0;
}

// A line longer than max_line_bytes: the input's bytes placed around that boundary, after filler
// (a megabyte per run, so a target of its own: the fast one above is not slowed down).
int run_log_long_lines(const uint8_t* data, std::size_t size) {
    Reader in(data, size);
    const std::size_t before = in.byte() % 16;
    std::vector<std::size_t> cuts(in.byte() & 3);
    for (auto& c : cuts) c = LineAssembler::max_line_bytes - 8 + in.byte() % 24;
    const char fill = static_cast<char>(in.byte());
    std::string bytes(LineAssembler::max_line_bytes - before, fill);
    bytes += in.rest();
    for (auto& c : cuts) c = std::min(c, bytes.size());
    std::sort(cuts.begin(), cuts.end());

    const auto lines = assemble(bytes, cuts);
    std::size_t total = 0;
    for (const auto& line : lines) {
        FUZZ_CHECK(is_utf8(line));
        FUZZ_CHECK(line.find_first_of("\r\n") == std::string::npos);
        FUZZ_CHECK(line.size() <= LineAssembler::max_line_bytes);
        total += line.size();
    }
    // Nothing is made up: the lines hold at most the input's bytes.
    FUZZ_CHECK(total <= bytes.size());
    return 0;
}

}  // namespace cppworker_fuzz
