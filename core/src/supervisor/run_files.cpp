#include "supervisor/run_files.hpp"

#include <fstream>
#include <string>

namespace cppworker::supervisor {

void write_atomically(const std::filesystem::path& file, std::string_view text) {
    const auto tmp = file.string() + ".tmp";
    std::ofstream(tmp) << text << '\n';
    std::filesystem::rename(tmp, file);
}

}  // namespace cppworker::supervisor
