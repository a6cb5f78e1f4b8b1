// Benchmark prompts of random words, like PyWorker's: the same for a given index on every run, so a
// cached and a fresh benchmark measure the same thing, and different across indices, so a server's
// prefix cache does not make the benchmark look faster than real traffic.
#pragma once

#include <cstdint>
#include <string>

namespace plugin_common {

inline std::string random_words(uint32_t index, uint32_t count) {
    static constexpr const char* vocabulary[] = {
        "the",     "model",   "river",   "quiet",   "engine",  "market", "window", "garden", "signal",  "paper",
        "bright",  "cloud",   "stone",   "number",  "travel",  "music",  "silver", "forest", "answer",  "bridge",
        "simple",  "history", "ocean",   "machine", "winter",  "family", "letter", "yellow", "science", "coffee",
        "mountain", "language", "city",  "question", "energy", "animal", "summer", "road",   "picture", "friend",
        "table",   "light",   "story",   "island",  "planet",  "orange", "memory", "doctor", "lantern", "castle",
        "teacher", "thunder", "village", "desert",  "pencil",  "circle", "mirror", "harbor", "valley",  "rocket",
        "kitchen", "morning", "evening", "storm"};
    constexpr uint64_t size = sizeof vocabulary / sizeof vocabulary[0];
    // splitmix64: tiny, and fixed across platforms (unlike std::uniform_int_distribution).
    uint64_t state = 0x9E3779B97F4A7C15ull * (uint64_t(index) + 1);
    const auto next = [&state] {
        uint64_t z = (state += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    };
    std::string out;
    for (uint32_t i = 0; i < count; ++i) {
        if (i) out += ' ';
        out += vocabulary[next() % size];
    }
    return out;
}

}  // namespace plugin_common
