#include "readiness/log_tail.hpp"

#include <catch2/catch.hpp>

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

using namespace cppworker::readiness;
namespace fs = std::filesystem;
using Lines = std::vector<std::string>;

namespace {

// A fresh directory per test, removed with everything in it at the end.
class TempDir {
public:
    TempDir() {
        std::string pattern = (fs::temp_directory_path() / "cppworker-logtail-XXXXXX").string();
        REQUIRE(::mkdtemp(pattern.data()) != nullptr);
        path_ = pattern;
    }
    ~TempDir() {
        std::error_code ignored;
        fs::remove_all(path_, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    fs::path operator/(std::string_view name) const { return path_ / name; }

private:
    fs::path path_;
};

void append(const fs::path& file, std::string_view bytes) {
    std::ofstream out(file, std::ios::binary | std::ios::app);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    REQUIRE(out.good());
}

}  // namespace

TEST_CASE("log tail: waits for the file, then reads it from its beginning", "[unit][readiness]") {
    TempDir dir;
    const auto log = dir / "model.log";
    LogTail tail(log);

    CHECK(tail.poll().empty());
    CHECK(tail.waiting());

    append(log, "written before the worker looked\nsecond\n");
    CHECK(tail.poll() == Lines{"written before the worker looked", "second"});
    CHECK_FALSE(tail.waiting());
    CHECK(tail.poll().empty());

    append(log, "third\n");
    CHECK(tail.poll() == Lines{"third"});
}

TEST_CASE("log tail: a line written in pieces is held back until it completes", "[unit][readiness]") {
    TempDir dir;
    const auto log = dir / "model.log";
    LogTail tail(log);

    append(log, "INFO:     Application startup");
    CHECK(tail.poll().empty());
    append(log, " complete.\nnext");
    CHECK(tail.poll() == Lines{"INFO:     Application startup complete."});
    append(log, "\n");
    CHECK(tail.poll() == Lines{"next"});
}

TEST_CASE("log tail: line ends and trailing whitespace are stripped as Python does", "[unit][readiness]") {
    TempDir dir;
    const auto log = dir / "model.log";
    LogTail tail(log);

    append(log, "crlf  \r\n  indented \t\nnbsp\xC2\xA0\n\nbar 10%\rbar 20%\r");
    CHECK(tail.poll() == Lines{"crlf", "  indented", "nbsp", "", "bar 10%", "bar 20%"});
    // This "\n" completes the "\r" read by the previous poll; it is no line of its own.
    append(log, "\nafter\n");
    CHECK(tail.poll() == Lines{"after"});
}

TEST_CASE("log tail: bytes that are not UTF-8 are dropped", "[unit][readiness]") {
    TempDir dir;
    const auto log = dir / "model.log";
    LogTail tail(log);

    // Expected values are what Python's decode("utf-8", "ignore") gives.
    append(log,
           "caf\xC3\xA9 ok\n"
           "bad\xFF"
           "byte\n"
           "\xE2\x82X\n"
           "\xED\xA0\x80z\n"
           "\xC0\xAFq\n"
           "\xF4\x90\x80\x80w\n"
           "\xF0\x9F\x98\x80\xF0\x9Fv\n");
    CHECK(tail.poll() == Lines{"caf\xC3\xA9 ok", "badbyte", "X", "z", "q", "w", "\xF0\x9F\x98\x80v"});

    append(log, "split \xE2\x82");
    CHECK(tail.poll().empty());
    append(log, "\xAC\n");
    CHECK(tail.poll() == Lines{"split \xE2\x82\xAC"});
}

TEST_CASE("log tail: rotation by rename reads the new file from its start", "[unit][readiness]") {
    TempDir dir;
    const auto log = dir / "model.log";
    const auto rotated = dir / "model.log.1";
    LogTail tail(log);

    // The model keeps its descriptor across the rename, as a shell redirection does.
    std::ofstream model(log, std::ios::binary | std::ios::app);
    model << "one\n" << std::flush;
    CHECK(tail.poll() == Lines{"one"});

    model << "two\n" << std::flush;
    fs::rename(log, rotated);
    model << "late\nunfinished" << std::flush;
    append(log, "fresh\n");
    // The old file is read to its end before the new one is started, its incomplete last line
    // delivered as it stands.
    CHECK(tail.poll() == Lines{"two", "late", "unfinished", "fresh"});

    // Once the old file has been left, what is written to it is lost, as in PyWorker.
    model << " lost\n" << std::flush;
    append(log, "kept\n");
    CHECK(tail.poll() == Lines{"kept"});
}

TEST_CASE("log tail: deletion then recreation", "[unit][readiness]") {
    TempDir dir;
    const auto log = dir / "model.log";
    LogTail tail(log);

    append(log, "old\n");
    CHECK(tail.poll() == Lines{"old"});

    append(log, "last words\nno newline");
    fs::remove(log);
    CHECK(tail.poll() == Lines{"last words", "no newline"});
    CHECK(tail.waiting());
    CHECK(tail.poll().empty());
    CHECK(tail.waiting());

    append(log, "reborn\n");
    CHECK(tail.poll() == Lines{"reborn"});
    CHECK_FALSE(tail.waiting());
}

TEST_CASE("log tail: in-place truncation restarts from the beginning", "[unit][readiness]") {
    TempDir dir;
    const auto log = dir / "model.log";
    LogTail tail(log);

    append(log, "before truncation\nand more\n");
    CHECK(tail.poll() == Lines{"before truncation", "and more"});

    // PyWorker would wait at its old offset and never see these lines.
    fs::resize_file(log, 0);
    append(log, "after\n");
    CHECK(tail.poll() == Lines{"after"});
    CHECK(tail.poll().empty());
}

TEST_CASE("log tail: a very long line is cut into pieces and each poll reads a bounded amount",
          "[unit][readiness]") {
    TempDir dir;
    const auto log = dir / "model.log";
    LogTail tail(log);

    constexpr auto max = LineAssembler::max_line_bytes;
    const std::string euro = "\xE2\x82\xAC";
    // The first cut falls inside the euro sign, so it moves back to the character's start.
    const std::string first_piece(max - 1, 'a');
    const std::string second_piece = euro + std::string(max - euro.size(), 'b');
    const std::string rest(100, 'c');
    append(log, first_piece + second_piece + rest + "\nshort\n");

    Lines lines;
    int polls = 0;
    do {
        const auto got = tail.poll();
        lines.insert(lines.end(), got.begin(), got.end());
        ++polls;
    } while (tail.backlog());

    CHECK(polls == 3);
    REQUIRE(lines.size() == 4);
    CHECK(lines[0] == first_piece);
    CHECK(lines[1] == second_piece);
    CHECK(lines[2] == rest);
    CHECK(lines[3] == "short");
}
