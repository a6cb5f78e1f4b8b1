#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace cppworker::readiness {

// Turns the bytes of one file, fed in arbitrary pieces, into lines as PyWorker sees them through
// open(encoding="utf-8", errors="ignore") and line.rstrip():
// - bytes that are not valid UTF-8 are dropped, the way Python's decoder drops them (each maximal
//   ill-formed subpart); a sequence cut by the end of a piece waits for the next one;
// - "\n", "\r\n" and a lone "\r" all end a line (Python's universal newlines), so a progress bar
//   redrawn with "\r" gives one line per redraw;
// - trailing whitespace, as Python's str.isspace() defines it, is removed.
// A line with no terminator yet is held back until it completes, but never beyond max_line_bytes:
// a longer line is delivered in pieces of at most that size, cut between characters, so memory
// stays bounded (a pattern straddling a cut is missed).
class LineAssembler {
public:
    static constexpr std::size_t max_line_bytes = std::size_t{1} << 20;

    void feed(std::string_view bytes, std::vector<std::string>& lines);
    // The file will give no more: the held-back line is delivered as it stands.
    void finish(std::vector<std::string>& lines);

private:
    void take_text(std::string_view text, std::vector<std::string>& lines);
    void cut_long_line(std::vector<std::string>& lines);

    std::string utf8_carry_;  // the start of a character whose remaining bytes have not been read
    std::string line_;        // valid UTF-8, no terminator
    bool after_cr_ = false;   // a "\n" right after a "\r" belongs to it
};

// Follows the model's log file by path, for a caller that polls on a timer (every 100 ms, or every
// 1 s while waiting() is true). Like PyWorker it reads the file from its beginning, and reopens it
// from the beginning when the path names a different file (rotation: device or inode changed).
//
// Deliberate differences from PyWorker:
// - In-place truncation (the file is now shorter than what was read) also restarts from the
//   beginning; PyWorker goes on waiting at its old offset and misses everything until the file
//   grows past it. A truncation followed by more growth than had been read before the next poll
//   looks like plain appending and is not noticed.
// - When the path stops naming the file (renamed away or deleted), the old file is first read to
//   its current end, so lines the model wrote just before the rotation are not lost. Whatever
//   is written to the old file after that is never read (PyWorker loses it too, and more).
// - A line is delivered only once complete (PyWorker's readline hands over a half-written line as
//   if it were whole); when the file is left, its incomplete last line is delivered as it stands.
// - Each poll reads at most max_read_bytes, so it never takes long; backlog() tells the caller
//   to poll again at once.
class LogTail {
public:
    static constexpr std::size_t max_read_bytes = std::size_t{1} << 20;

    explicit LogTail(std::filesystem::path path);
    ~LogTail();
    LogTail(const LogTail&) = delete;
    LogTail& operator=(const LogTail&) = delete;

    // The lines completed since the last call, empty ones included (PyWorker matches those too).
    std::vector<std::string> poll();

    // No file is open: the path names nothing, or nothing readable as a regular file.
    bool waiting() const { return fd_ < 0; }
    // The last poll stopped at its byte budget with more to read.
    bool backlog() const { return backlog_; }

private:
    enum class PathState { same, truncated, elsewhere };

    PathState check_path() const;
    void open_file();
    void close_file(std::vector<std::string>& lines);
    void restart_file(std::vector<std::string>& lines);
    // Reads until end of file or until the budget is spent; true at end of file.
    bool read_to_end(std::size_t& budget, std::vector<std::string>& lines);

    std::filesystem::path path_;
    int fd_ = -1;
    std::uintmax_t device_ = 0;
    std::uintmax_t inode_ = 0;
    std::uintmax_t offset_ = 0;  // bytes read from the open file
    LineAssembler assembler_;
    bool backlog_ = false;
};

}  // namespace cppworker::readiness
