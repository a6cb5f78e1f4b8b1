#include "config/config.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdlib>
#include <stdexcept>
#include <cctype>
#include <thread>

namespace cppworker::config {
namespace {

std::chrono::milliseconds seconds_to_ms(double s) {
    return std::chrono::milliseconds(static_cast<long long>(s * 1000.0));
}

// BACKEND names a plugin; a path-like value is taken as the .so itself.
std::filesystem::path resolve_plugin(const std::string& backend, const std::string& explicit_path,
                                     const std::filesystem::path& plugin_dir) {
    if (!explicit_path.empty()) return explicit_path;
    if (backend.find('/') != std::string::npos || backend.ends_with(".so")) return backend;
    return plugin_dir / (backend + ".so");
}

}  // namespace

std::optional<bool> parse_bool(std::string_view text) {
    std::string t(text);
    for (auto& c : t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (const char* yes : {"y", "yes", "t", "true", "on", "1"}) {
        if (t == yes) return true;
    }
    for (const char* no : {"n", "no", "f", "false", "off", "0"}) {
        if (t == no) return false;
    }
    return std::nullopt;
}

std::vector<std::string> missing_autoscaler_settings(const Config& c) {
    std::vector<std::string> missing;
    if (c.report_addr.empty()) return missing;
    if (!c.container_id) missing.push_back("CONTAINER_ID");
    if (c.public_ip.empty()) missing.push_back("PUBLIC_IPADDR");
    if (c.external_port.empty()) missing.push_back("VAST_TCP_PORT_" + std::to_string(c.port));
    return missing;
}

namespace {

// What is read as text or seconds, and checked or converted once every option is in.
struct RawOptions {
    std::string plugin_path;
    std::string plugin_dir;
    std::vector<std::string> plugin_options;
    double read_timeout = 30, request_timeout = 600, drain_timeout = 30, stream_idle_timeout = 300;
    double upstream_connect_timeout = 10, upstream_timeout = 600;
    std::string port_file;
    std::string container_id;
    std::string use_ssl = "false";
    std::string unsecured = "false";
    std::string pubkey_file;
    std::string health_path = "(plugin's)";
};

void add_server_options(CLI::App& app, Config& c, RawOptions& raw) {
    app.add_option("--port", c.port, "TCP port to listen on (0 picks a free one)")->envname("WORKER_PORT");
    app.add_option("--listen", c.listen_address, "address to listen on")->envname("WORKER_LISTEN_ADDR");
    app.add_option("--backend", c.backend, "plugin name, looked up in the plugin directory")->envname("BACKEND");
    app.add_option("--plugin", raw.plugin_path, "path of the plugin .so (overrides --backend)")->envname("PLUGIN_PATH");
    app.add_option("--plugin-dir", raw.plugin_dir, "where --backend names are looked up")->envname("CPPWORKER_PLUGIN_DIR");
    app.add_option("--plugin-option", raw.plugin_options, "key=value handed to the plugin's config lookup (repeatable)");
    app.add_option("--report-addr", c.report_addr, "autoscaler base URLs, comma-separated; empty: standalone")
        ->envname("REPORT_ADDR");
    app.add_option("--io-threads", c.io_threads, "I/O threads (0: one per core)")->envname("WORKER_IO_THREADS");
    app.add_option("--blocking-threads", c.blocking_threads, "threads for blocking routes (0: max(4, 2 x cores))")
        ->envname("WORKER_BLOCKING_THREADS");
    app.add_option("--max-body-bytes", c.max_body_bytes, "largest request body; larger gets 413")
        ->envname("WORKER_MAX_BODY_BYTES");
    app.add_option("--max-header-bytes", c.max_header_bytes, "largest request head; larger gets 431")
        ->envname("WORKER_MAX_HEADER_BYTES");
    app.add_option("--read-timeout", raw.read_timeout, "seconds a client may take to send a request; slower gets 408")
        ->envname("WORKER_READ_TIMEOUT")->check(CLI::PositiveNumber);
    app.add_option("--request-timeout", raw.request_timeout,
                   "seconds a request may wait in its queue and for the plugin to start answering; then 504")
        ->envname("WORKER_REQUEST_TIMEOUT")->check(CLI::PositiveNumber);
    app.add_option("--drain-timeout", raw.drain_timeout, "seconds to finish in-flight requests on SIGTERM")
        ->envname("WORKER_DRAIN_TIMEOUT")->check(CLI::NonNegativeNumber);
    app.add_option("--stream-high-water", c.stream_high_water, "bytes queued for a slow client before streams see backpressure")
        ->envname("WORKER_STREAM_HIGH_WATER")->check(CLI::PositiveNumber);
    app.add_option("--stream-idle-timeout", raw.stream_idle_timeout,
                   "seconds a plugin's stream may go without a write before it is cut short")
        ->envname("WORKER_STREAM_IDLE_TIMEOUT")->check(CLI::PositiveNumber);
    app.add_option("--max-connections", c.max_connections, "open client connections at most; past it 503 and close")
        ->envname("WORKER_MAX_CONNECTIONS")->check(CLI::PositiveNumber);
    app.add_option("--max-undelivered", c.max_undelivered,
                   "finished request ids kept for the autoscaler's /delete_requests/; past it the oldest go")
        ->envname("WORKER_MAX_UNDELIVERED");
    app.add_option("--port-file", raw.port_file, "write the bound port to this file once listening")
        ->envname("WORKER_PORT_FILE");
    app.add_option("--log-level", c.log_level, "debug, info, warn or error")
        ->envname("LOG_LEVEL")->check(CLI::IsMember({"debug", "info", "warn", "error"}));
}

void add_instance_options(CLI::App& app, Config& c, RawOptions& raw) {
    app.add_option("--container-id", raw.container_id, "this instance's id, reported to the autoscaler")
        ->envname("CONTAINER_ID");
    app.add_option("--public-ip", c.public_ip, "public address clients reach this instance at")->envname("PUBLIC_IPADDR");
    app.add_option("--external-port", c.external_port,
                   "public port mapped to --port (default: VAST_TCP_PORT_<port>)");
    app.add_option("--use-ssl", raw.use_ssl, "\"true\": serve TLS, and report an https url")->envname("USE_SSL");
    app.add_option("--tls-cert", c.tls_cert, "certificate chain (PEM) served with USE_SSL")->envname("TLS_CERT_FILE");
    app.add_option("--tls-key", c.tls_key, "private key (PEM) of --tls-cert")->envname("TLS_KEY_FILE");
    app.add_option("--model-log", c.model_log, "the model server's log, watched for its loaded and error lines")
        ->envname("MODEL_LOG");
    app.add_option("--benchmark-cache", c.benchmark_cache, "file that keeps the benchmark result across restarts")
        ->envname("BENCHMARK_CACHE");
    app.add_flag("--supervise", c.supervise,
                 "true: a master process binds the port and runs the worker as a child it restarts after a crash "
                 "and replaces on SIGHUP")
        ->envname("WORKER_SUPERVISE");
    app.add_option("--run-dir", c.run_dir, "where the supervising master writes cppworker-<port>.pid")
        ->envname("CPPWORKER_RUN_DIR");
}

void add_request_path_options(CLI::App& app, Config& c, RawOptions& raw) {
    app.add_option("--unsecured", raw.unsecured, "skip signature checks and accept bare payloads (development only)")
        ->envname("UNSECURED");
    app.add_option("--pubkey-file", raw.pubkey_file, "PEM public key of the autoscaler, instead of fetching it")
        ->envname("PUBKEY_FILE");
    app.add_option("--auth-scheme", c.auth_scheme, "signed message: url (Gen 3 1.1.0), fields (1.0.0, Gen 2) or any")
        ->envname("AUTH_SCHEME")->check(CLI::IsMember({"url", "fields", "any"}));
    app.add_option("--master-token", c.master_token, "bearer token of POST /pyworker/update")->envname("MASTER_TOKEN");
    app.add_option("--force-update-file", c.force_update_file, "file POST /pyworker/update creates")
        ->envname("FORCE_UPDATE_FILE");
    app.add_option("--max-sessions", c.max_sessions, "open sessions at most; more get 429 (0: no sessions)")
        ->envname("MAX_SESSIONS");
    app.add_option("--model-server-url", c.model_server_url,
                   "model server base URL (default: the plugin's), for forwards, health and on-close routes")
        ->envname("MODEL_SERVER_URL");
    app.add_option("--model-health-path", raw.health_path,
                   "GET path that says the model server is healthy, instead of the plugin's; \"none\": no probe")
        ->envname("MODEL_HEALTH_ENDPOINT");
    app.add_option("--upstream-connect-timeout", raw.upstream_connect_timeout,
                   "seconds to connect to the model server; then 504")
        ->envname("WORKER_UPSTREAM_CONNECT_TIMEOUT")->check(CLI::PositiveNumber);
    app.add_option("--upstream-timeout", raw.upstream_timeout,
                   "seconds the model server may take to start answering, or stay silent mid-answer; then 504")
        ->envname("WORKER_UPSTREAM_TIMEOUT")->check(CLI::PositiveNumber);
}

// The options read as text, checked; the message of a usage error (exit 2) when one is wrong.
std::optional<std::string> apply_text_options(const RawOptions& raw, Config& c) {
    if (const auto flag = parse_bool(raw.unsecured)) {
        c.unsecured = *flag;
    } else {
        return "UNSECURED / --unsecured takes true or false, got '" + raw.unsecured + "'";
    }
    if (!raw.pubkey_file.empty()) c.pubkey_file = raw.pubkey_file;
    // PyWorker's test is exactly this string.
    c.use_ssl = raw.use_ssl == "true";
    if (!raw.container_id.empty()) {
        try {
            std::size_t used = 0;
            c.container_id = std::stoll(raw.container_id, &used);
            if (used != raw.container_id.size()) throw std::invalid_argument(raw.container_id);
        } catch (const std::exception&) {
            return "CONTAINER_ID must be an integer, got '" + raw.container_id + "'";
        }
    }
    if (c.external_port.empty()) {
        if (const char* mapped = std::getenv(("VAST_TCP_PORT_" + std::to_string(c.port)).c_str())) c.external_port = mapped;
    }
    for (const auto& kv : raw.plugin_options) {
        const auto eq = kv.find('=');
        if (eq == std::string::npos || eq == 0) return "--plugin-option takes key=value, got '" + kv + "'";
        c.plugin_options[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    if (raw.health_path == "none") {
        c.model_health_path = "";
    } else if (raw.health_path != "(plugin's)") {
        if (!raw.health_path.starts_with('/')) {
            return "MODEL_HEALTH_ENDPOINT / --model-health-path takes a path starting with '/' or \"none\", got '" +
                   raw.health_path + "'";
        }
        c.model_health_path = raw.health_path;
    }
    if (!raw.port_file.empty()) c.port_file = raw.port_file;
    c.plugin_path = resolve_plugin(c.backend, raw.plugin_path, raw.plugin_dir);
    return std::nullopt;
}

void apply_numbers(const RawOptions& raw, Config& c) {
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    if (c.io_threads == 0) c.io_threads = cores;
    if (c.blocking_threads == 0) c.blocking_threads = std::max(4u, 2 * cores);
    c.read_timeout = seconds_to_ms(raw.read_timeout);
    c.request_timeout = seconds_to_ms(raw.request_timeout);
    c.drain_timeout = seconds_to_ms(raw.drain_timeout);
    c.stream_idle_timeout = seconds_to_ms(raw.stream_idle_timeout);
    c.upstream_connect_timeout = seconds_to_ms(raw.upstream_connect_timeout);
    c.upstream_timeout = seconds_to_ms(raw.upstream_timeout);
}

}  // namespace

ParseResult parse(int argc, const char* const* argv, const std::filesystem::path& exe_dir) {
    Config c;
    RawOptions raw;
    raw.plugin_dir = (exe_dir / ".." / "lib" / "cppworker" / "plugins").lexically_normal().string();
    CLI::App app{"cppworker: the public API of a model-serving instance, driven by a backend plugin"};
    app.option_defaults()->always_capture_default();
    add_server_options(app, c, raw);
    add_instance_options(app, c, raw);
    add_request_path_options(app, c, raw);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        ParseResult r;
        // One exit code for every usage error, whatever CLI11 calls it.
        r.exit_code = e.get_exit_code() == 0 ? 0 : 2;
        r.message = e.get_exit_code() == 0 ? app.help() : std::string("cppworker: ") + e.what() +
                                                              "\nRun with --help for the options.\n";
        return r;
    }
    if (const auto error = apply_text_options(raw, c)) return ParseResult{std::nullopt, 2, "cppworker: " + *error + "\n"};
    apply_numbers(raw, c);
    return ParseResult{std::move(c), 0, {}};
}

}  // namespace cppworker::config
