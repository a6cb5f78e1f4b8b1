#include "readiness/log_tail.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

namespace cppworker::readiness {

namespace {

constexpr std::size_t read_chunk_bytes = 64 * 1024;

unsigned char byte(char c) { return static_cast<unsigned char>(c); }

bool is_continuation(char c) { return (byte(c) & 0xC0) == 0x80; }

// How long a UTF-8 sequence starting with `b` is and which second bytes it allows (Unicode
// Table 3-7: no overlongs, surrogates or code points past U+10FFFF); length 0 if `b` starts none.
struct Lead {
    std::size_t length;
    unsigned char low;
    unsigned char high;
};

Lead lead_of(unsigned char b) {
    if (b < 0x80) return {1, 0, 0};
    if (b < 0xC2) return {0, 0, 0};
    if (b < 0xE0) return {2, 0x80, 0xBF};
    if (b == 0xE0) return {3, 0xA0, 0xBF};
    if (b == 0xED) return {3, 0x80, 0x9F};
    if (b < 0xF0) return {3, 0x80, 0xBF};
    if (b == 0xF0) return {4, 0x90, 0xBF};
    if (b < 0xF4) return {4, 0x80, 0xBF};
    if (b == 0xF4) return {4, 0x80, 0x8F};
    return {0, 0, 0};
}

bool continues(const Lead& lead, std::size_t position, unsigned char b) {
    return position == 1 ? b >= lead.low && b <= lead.high : is_continuation(static_cast<char>(b));
}

// Appends the well-formed characters of `bytes` to `text` and drops each maximal ill-formed
// subpart, which is what Python's errors="ignore" does. Returns how many trailing bytes begin a
// character that `bytes` ends too early to judge.
std::size_t keep_valid_utf8(std::string_view bytes, std::string& text) {
    std::size_t i = 0;
    while (i < bytes.size()) {
        const auto lead = lead_of(byte(bytes[i]));
        std::size_t j = i + 1;
        while (j < i + lead.length && j < bytes.size() && continues(lead, j - i, byte(bytes[j]))) ++j;
        if (lead.length != 0 && j == i + lead.length)
            text.append(bytes.substr(i, lead.length));
        else if (lead.length != 0 && j == bytes.size())
            return j - i;
        i = j;
    }
    return 0;
}

// One well-formed character.
char32_t decode(std::string_view c) {
    if (c.size() == 1) return byte(c[0]);
    char32_t value = byte(c[0]) & (0x7F >> c.size());
    for (const char b : c.substr(1)) value = (value << 6) | (byte(b) & 0x3F);
    return value;
}

// Python's str.isspace().
bool is_space(char32_t c) {
    return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1C && c <= 0x1F) || c == 0x85 || c == 0xA0 ||
           c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
           c == 0x205F || c == 0x3000;
}

// Python's str.rstrip() on well-formed UTF-8.
std::string rstripped(std::string line) {
    while (!line.empty()) {
        auto start = line.size() - 1;
        while (start > 0 && is_continuation(line[start])) --start;
        if (!is_space(decode(std::string_view(line).substr(start)))) break;
        line.resize(start);
    }
    return line;
}

}  // namespace

void LineAssembler::feed(std::string_view bytes, std::vector<std::string>& lines) {
    std::string joined;
    if (!utf8_carry_.empty()) {
        joined = std::exchange(utf8_carry_, {});
        joined.append(bytes);
        bytes = joined;
    }
    std::string text;
    const auto unfinished = keep_valid_utf8(bytes, text);
    utf8_carry_ = bytes.substr(bytes.size() - unfinished);
    take_text(text, lines);
}

void LineAssembler::finish(std::vector<std::string>& lines) {
    if (!line_.empty()) lines.push_back(rstripped(std::exchange(line_, {})));
    utf8_carry_.clear();
    after_cr_ = false;
}

void LineAssembler::take_text(std::string_view text, std::vector<std::string>& lines) {
    while (!text.empty()) {
        if (std::exchange(after_cr_, false) && text.front() == '\n') {
            text.remove_prefix(1);
            continue;
        }
        const auto end = text.find_first_of("\r\n");
        line_.append(text.substr(0, end));
        cut_long_line(lines);
        if (end == std::string_view::npos) return;
        after_cr_ = text[end] == '\r';
        lines.push_back(rstripped(std::exchange(line_, {})));
        text.remove_prefix(end + 1);
    }
}

void LineAssembler::cut_long_line(std::vector<std::string>& lines) {
    while (line_.size() > max_line_bytes) {
        // line_ is well formed, so a character start is at most three bytes back.
        auto cut = max_line_bytes;
        while (is_continuation(line_[cut])) --cut;
        lines.push_back(rstripped(line_.substr(0, cut)));
        line_.erase(0, cut);
    }
}

LogTail::LogTail(std::filesystem::path path) : path_(std::move(path)) {}

LogTail::~LogTail() {
    if (fd_ >= 0) ::close(fd_);
}

std::vector<std::string> LogTail::poll() {
    std::vector<std::string> lines;
    auto budget = max_read_bytes;
    if (fd_ >= 0) {
        switch (check_path()) {
        case PathState::same:
            break;
        case PathState::truncated:
            restart_file(lines);
            break;
        case PathState::elsewhere:
            // The old file is finished before the new one is started, over as many polls as it takes.
            backlog_ = !read_to_end(budget, lines);
            if (backlog_) return lines;
            close_file(lines);
            break;
        }
    }
    if (fd_ < 0) open_file();
    backlog_ = fd_ >= 0 && !read_to_end(budget, lines);
    return lines;
}

LogTail::PathState LogTail::check_path() const {
    struct stat st {};
    // Only a path that names nothing is a rotation: any other failure (permissions, I/O) says
    // nothing about the file already open, which stays readable through its descriptor.
    if (::stat(path_.c_str(), &st) != 0)
        return errno == ENOENT || errno == ENOTDIR ? PathState::elsewhere : PathState::same;
    if (!S_ISREG(st.st_mode) || st.st_dev != device_ || st.st_ino != inode_) return PathState::elsewhere;
    return static_cast<std::uintmax_t>(st.st_size) < offset_ ? PathState::truncated : PathState::same;
}

void LogTail::open_file() {
    // Non-blocking so that a FIFO put at the path cannot stall the poll in open().
    const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return;
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        return;
    }
    fd_ = fd;
    device_ = st.st_dev;
    inode_ = st.st_ino;
    offset_ = 0;
}

void LogTail::close_file(std::vector<std::string>& lines) {
    assembler_.finish(lines);
    ::close(fd_);
    fd_ = -1;
}

void LogTail::restart_file(std::vector<std::string>& lines) {
    assembler_.finish(lines);
    offset_ = 0;
}

bool LogTail::read_to_end(std::size_t& budget, std::vector<std::string>& lines) {
    std::string buffer(std::min(budget, read_chunk_bytes), '\0');
    while (budget > 0) {
        const auto n = ::pread(fd_, buffer.data(), std::min(budget, buffer.size()), static_cast<off_t>(offset_));
        if (n < 0 && errno == EINTR) continue;
        // A read error counts as the end for now: the next poll tries again rather than spinning.
        if (n <= 0) return true;
        const auto got = static_cast<std::size_t>(n);
        offset_ += got;
        budget -= got;
        assembler_.feed(std::string_view(buffer.data(), got), lines);
    }
    return false;
}

}  // namespace cppworker::readiness
