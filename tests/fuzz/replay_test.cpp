// Replays every fuzz target over its seed corpus (tests/fuzz/corpus/<target>/) and over every input
// that ever made it fail (tests/fuzz/regressions/<target>/), through the same bodies the libFuzzer
// executables run, so the plain g++ build exercises that code too. A failed check aborts and
// names the input; a file that went back to passing stays here as a regression case.
#include "fuzz_support.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

// A missing folder is an error, not an empty one: a target renamed on one side only would
// otherwise replay nothing and pass.
std::vector<fs::path> inputs_in(const fs::path& dir) {
    std::vector<fs::path> out;
    INFO(dir.string());
    REQUIRE(fs::is_directory(dir));
    for (const auto& entry : fs::directory_iterator(dir)) {
        if (entry.is_regular_file() && !entry.path().filename().string().starts_with('.')) out.push_back(entry.path());
    }
    std::sort(out.begin(), out.end());
    return out;
}

void replay(const char* target, int (*body)(const uint8_t*, std::size_t)) {
    const fs::path root = CPPWORKER_FUZZ_DIR;
    const auto corpus = inputs_in(root / "corpus" / target);
    const auto regressions = inputs_in(root / "regressions" / target);
    // Every target has seeds; regressions/<target>/ may hold none yet (only its .gitkeep).
    REQUIRE(!corpus.empty());
    for (const auto* list : {&corpus, &regressions}) {
        for (const auto& path : *list) {
            std::ifstream file(path, std::ios::binary);
            const std::vector<char> bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
            const std::string name = path.string();
            INFO(name);
            // An input that cannot be read would be replayed as the empty input, and pass.
            REQUIRE(file.is_open());
            REQUIRE(bytes.size() == fs::file_size(path));
            cppworker_fuzz::current_input = name.c_str();
            // Exactly the input's bytes in an allocation of their own, as libFuzzer hands them.
            std::unique_ptr<uint8_t[]> data(new uint8_t[std::max<std::size_t>(bytes.size(), 1)]);
            std::copy(bytes.begin(), bytes.end(), data.get());
            // The body's verdict is not its return value (always 0, as libFuzzer wants): a failed
            // check aborts the process, naming the input, and an exception fails the case here.
            body(data.get(), bytes.size());
            cppworker_fuzz::current_input = nullptr;
        }
    }
    SUCCEED(corpus.size() << " seeds and " << regressions.size() << " regression inputs replayed");
}

}  // namespace

#define CPPWORKER_FUZZ_REPLAY_CASE(name) \
    TEST_CASE("fuzz replay " #name, "[fuzz]") { replay(#name, cppworker_fuzz::run_##name); }
CPPWORKER_FUZZ_TARGETS(CPPWORKER_FUZZ_REPLAY_CASE)
