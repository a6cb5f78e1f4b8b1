#pragma once

#include <filesystem>
#include <string_view>

namespace cppworker::os {

// Writes `text` and a newline to `file` under a temporary name, then renames it into place, so
// that a reader (a launch script waiting for the port or the pid) never sees half a line.
void write_atomically(const std::filesystem::path& file, std::string_view text);

// The folder of the running executable (/proc/self/exe), or of `argv0` where /proc is missing:
// what a program finds its own files (plugins, a worker beside the engine) from.
std::filesystem::path executable_dir(const char* argv0);

}  // namespace cppworker::os
