#pragma once

#include <filesystem>
#include <string_view>

namespace cppworker::supervisor {

// Writes `text` and a newline to `file` under a temporary name, then renames it into place, so
// that a reader (a launch script waiting for the port or the pid) never sees half a line.
void write_atomically(const std::filesystem::path& file, std::string_view text);

}  // namespace cppworker::supervisor
