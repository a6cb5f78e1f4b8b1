// USE_SSL: the worker serves HTTPS with the instance's certificate (core/protocol.md §7.2).
#include "http_client.hpp"
#include "worker_process.hpp"

#include <catch2/catch.hpp>

#include <csignal>
#include <cstdio>
#include <filesystem>

using namespace cppworker::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

std::string run(const std::string& command) {
    std::string out;
    FILE* p = ::popen(command.c_str(), "r");
    if (p == nullptr) return out;
    char buf[4096];
    while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
    ::pclose(p);
    return out;
}

// A self-signed certificate, as start_server.sh makes one before Vast signs it.
struct Certificate {
    fs::path dir = fs::temp_directory_path() / ("cppworker-tls-" + std::to_string(::getpid()));
    Certificate() {
        fs::create_directories(dir);
        run("openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 1 -subj /CN=127.0.0.1 -keyout " +
            (dir / "instance.key").string() + " -out " + (dir / "instance.crt").string() + " 2>/dev/null");
    }
    ~Certificate() { fs::remove_all(dir); }
    std::vector<std::string> args() const {
        return {"--tls-cert", (dir / "instance.crt").string(), "--tls-key", (dir / "instance.key").string()};
    }
};

}  // namespace

TEST_CASE("with USE_SSL the worker speaks HTTPS, and only HTTPS", "[integration][tls]") {
    Certificate cert;
    REQUIRE(fs::exists(cert.dir / "instance.crt"));
    WorkerProcess w(artifact(HELLO_WORLD_PLUGIN), cert.args(), {{"USE_SSL", "true"}});
    const std::string base = "https://127.0.0.1:" + std::to_string(w.port());
    CHECK(run("curl -sk " + base + "/ping") == "pong");
    CHECK(run("curl -sk -X POST " + base + "/increment -d '{\"payload\": {\"amount\": 3}}'") == R"({"value":3})");
    CHECK(run("curl -sk " + base + "/value") == R"({"value":3})");
    // Keep-alive through the TLS front: two requests, one connection.
    CHECK(run("curl -sk " + base + "/value " + base + "/value") == R"({"value":3}{"value":3})");

    // Plain HTTP on the TLS port gets no HTTP answer.
    HttpConnection plain(w.port());
    plain.send_raw("GET /ping HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK_THROWS(plain.read_response());
}

TEST_CASE("with USE_SSL and no usable certificate the worker does not start", "[integration][tls]") {
    auto [code, log] = WorkerProcess::run_to_exit(artifact(HELLO_WORLD_PLUGIN),
                                                  {"--tls-cert", "/nonexistent/instance.crt", "--tls-key", "/nonexistent/k"},
                                                  {{"USE_SSL", "true"}});
    CHECK(code == 1);
    CHECK_THAT(log, Catch::Contains("/nonexistent/instance.crt"));
}

TEST_CASE("with USE_SSL a client that never finishes its handshake is closed after --read-timeout",
          "[integration][tls]") {
    Certificate cert;
    auto args = cert.args();
    args.insert(args.end(), {"--read-timeout", "0.5"});
    WorkerProcess w(artifact(HELLO_WORLD_PLUGIN), args, {{"USE_SSL", "true"}});
    HttpConnection silent(w.port());  // TCP only: not a byte of TLS
    CHECK(silent.closed_by_peer(5s));
}

TEST_CASE("with USE_SSL a slow client gets 408 inside TLS, and the log names its own address",
          "[integration][tls]") {
    Certificate cert;
    auto args = cert.args();
    args.insert(args.end(), {"--read-timeout", "0.5"});
    WorkerProcess w(artifact(HELLO_WORLD_PLUGIN), args, {{"USE_SSL", "true"}});
    // Python's ssl module as the client: half a request, then the status line it gets back, and
    // the client's own port.
    const auto out = run("/usr/bin/python3 -c '\n"
                         "import socket, ssl\n"
                         "ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE\n"
                         "s = ctx.wrap_socket(socket.create_connection((\"127.0.0.1\", " +
                         std::to_string(w.port()) +
                         ")))\n"
                         "s.sendall(b\"POST /increment HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 100\\r\\n\\r\\n{\")\n"
                         "print(s.getsockname()[1], s.recv(4096).split(b\"\\r\\n\")[0].decode())\n"
                         "'");
    const auto space = out.find(' ');
    REQUIRE(space != std::string::npos);
    const auto client_port = out.substr(0, space);
    CHECK_THAT(out, Catch::Contains("HTTP/1.1 408 Request Timeout"));
    CHECK(w.wait_for_log("client 127.0.0.1:" + client_port + " was too slow sending its request"));
}

TEST_CASE("with USE_SSL a supervised worker serves HTTPS, and so does the worker a reload starts",
          "[integration][tls][supervisor]") {
    // What start_server.sh runs on a Vast instance: --supervise, with the instance's certificate.
    Certificate cert;
    auto args = cert.args();
    args.push_back("--supervise");
    WorkerProcess w(artifact(HELLO_WORLD_PLUGIN), args, {{"USE_SSL", "true"}, {"CPPWORKER_RUN_DIR", cert.dir.string()}});
    const std::string base = "https://127.0.0.1:" + std::to_string(w.port());
    CHECK(run("curl -sk -X POST " + base + "/increment -d '{\"payload\": {\"amount\": 3}}'") == R"({"value":3})");

    w.signal(SIGHUP);
    REQUIRE(w.wait_for_log("reload 1: worker pid", 20s));
    // hello_world counts in memory: the new worker process starts again from 0.
    CHECK(run("curl -sk " + base + "/value") == R"({"value":0})");
    HttpConnection plain(w.port());
    plain.send_raw("GET /ping HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK_THROWS(plain.read_response());
}
