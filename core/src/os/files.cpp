#include "os/files.hpp"

#include <fstream>
#include <string>

namespace cppworker::os {

void write_atomically(const std::filesystem::path& file, std::string_view text) {
    const auto tmp = file.string() + ".tmp";
    std::ofstream(tmp) << text << '\n';
    std::filesystem::rename(tmp, file);
}

std::filesystem::path executable_dir(const char* argv0) {
    std::error_code ec;
    auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec) self = std::filesystem::absolute(argv0);
    return self.parent_path();
}

}  // namespace cppworker::os
