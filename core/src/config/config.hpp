#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cppworker::config {

// Everything the worker is told at start-up, read once and never changed.
struct Config {
    std::string listen_address = "0.0.0.0";
    uint16_t port = 3000;
    std::string backend = "hello_world";
    std::filesystem::path plugin_path;  // resolved: --plugin, or BACKEND in the plugin directory
    std::map<std::string, std::string, std::less<>> plugin_options;
    std::string report_addr;            // empty: standalone
    unsigned io_threads = 0;            // 0: one per core
    unsigned blocking_threads = 0;      // 0: max(4, 2 x cores)
    std::size_t max_body_bytes = 16 * 1024 * 1024;
    std::size_t max_header_bytes = 16 * 1024;
    std::chrono::milliseconds read_timeout{30'000};
    std::chrono::milliseconds request_timeout{600'000};
    std::chrono::milliseconds drain_timeout{30'000};
    std::size_t stream_high_water = 1024 * 1024;
    std::optional<std::filesystem::path> port_file;
    std::string log_level = "info";
};

// Outcome of parsing: a Config, or an exit code and text for the console (help is not an error).
struct ParseResult {
    std::optional<Config> config;
    int exit_code = 0;
    std::string message;
};

// Command-line flags win over the environment variables PyWorker uses (WORKER_PORT, BACKEND, ...).
// `exe_dir` anchors the default plugin directory (<exe_dir>/../lib/cppworker/plugins).
ParseResult parse(int argc, const char* const* argv, const std::filesystem::path& exe_dir);

}  // namespace cppworker::config
