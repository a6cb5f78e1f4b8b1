#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
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
    std::chrono::milliseconds stream_idle_timeout{300'000};  // a plugin stream with no write for this long is cut
    std::size_t max_connections = 10'000;          // open client connections; past it a new one gets 503
    std::size_t max_undelivered = 1'000'000;       // retired request ids kept for /delete_requests/
    std::optional<std::filesystem::path> port_file;
    std::string log_level = "info";

    // Request path (core/protocol.md §4, §6).
    bool unsecured = false;                       // UNSECURED: no signature checks, bare payloads allowed
    std::optional<std::filesystem::path> pubkey_file;  // else fetched from REPORT_ADDR/pubkey/
    std::string auth_scheme = "any";              // "url" (Gen 3 1.1.0), "fields" (1.0.0 / Gen 2) or "any"
    std::string master_token;                     // MASTER_TOKEN: bearer for /pyworker/update
    std::filesystem::path force_update_file = "/.force_update";
    int max_sessions = 10;
    std::string model_server_url;                 // MODEL_SERVER_URL, else the plugin's default: forwards,
                                                  // the health probe, relative session on-close routes
    std::optional<std::string> model_health_path;  // MODEL_HEALTH_ENDPOINT: instead of the plugin's; "" for none
    std::chrono::milliseconds upstream_connect_timeout{10'000};  // then 504
    std::chrono::milliseconds upstream_timeout{600'000};         // for an answer to start, then between reads

    // Autoscaler reporting and readiness (core/protocol.md §2, §7, §8).
    std::optional<int64_t> container_id;          // CONTAINER_ID: the worker's id in reports
    std::string public_ip;                        // PUBLIC_IPADDR
    std::string external_port;                    // VAST_TCP_PORT_<WORKER_PORT>
    bool use_ssl = false;                         // USE_SSL == "true": TLS, and https in the reported url
    std::filesystem::path tls_cert = "/etc/instance.crt";
    std::filesystem::path tls_key = "/etc/instance.key";
    std::string model_log;                        // MODEL_LOG: the model server's log to watch
    std::filesystem::path benchmark_cache = ".has_benchmark";

    // Supervision and reload (core/src/supervisor).
    bool supervise = false;                       // WORKER_SUPERVISE: a master process runs the worker as a child
    std::filesystem::path run_dir = "/tmp";       // CPPWORKER_RUN_DIR: where the master's pid file goes
};

// What reporting to an autoscaler needs and is missing (empty when standalone or complete).
std::vector<std::string> missing_autoscaler_settings(const Config& c);

// Python's distutils.strtobool, as PyWorker reads UNSECURED: empty when `text` is neither.
std::optional<bool> parse_bool(std::string_view text);

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
