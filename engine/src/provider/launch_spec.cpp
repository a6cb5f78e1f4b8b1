#include "provider/launch_spec.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace cppworker::engine {
namespace {

std::string fill(std::string text, const std::map<std::string, std::string>& values) {
    for (const auto& [name, value] : values) {
        const std::string placeholder = "{" + name + "}";
        for (auto at = text.find(placeholder); at != std::string::npos; at = text.find(placeholder, at + value.size())) {
            text.replace(at, placeholder.size(), value);
        }
    }
    return text;
}

}  // namespace

WorkerLaunch resolve_launch(const Template& t, const Worker& w, const LaunchContext& c) {
    std::map<std::string, std::string> values{{"bin", c.bin_dir.string()},
                                              {"config_dir", c.config_dir.string()},
                                              {"folder", c.folder.string()},
                                              {"port", std::to_string(c.port)}};
    for (const auto& [name, port] : c.ports) values[name] = std::to_string(port);
    WorkerLaunch launch;
    launch.worker_id = w.id;
    launch.folder = c.folder;
    launch.log = c.folder / "worker.log";
    for (const auto& part : t.command) launch.command.push_back(fill(part, values));
    for (const auto& [name, value] : t.env) launch.env[name] = fill(value, values);
    for (const auto& [name, port] : c.ports) launch.env[name] = std::to_string(port);
    const std::string port = std::to_string(c.port);
    launch.env["REPORT_ADDR"] = c.report_addr;
    launch.env["CONTAINER_ID"] = std::to_string(w.id);
    launch.env["MASTER_TOKEN"] = w.mtoken;
    launch.env["WORKER_PORT"] = port;
    launch.env["PUBLIC_IPADDR"] = "127.0.0.1";
    launch.env["VAST_TCP_PORT_" + port] = port;
    // On this machine only, unless the template says otherwise.
    launch.env.try_emplace("WORKER_LISTEN_ADDR", "127.0.0.1");
    return launch;
}

uint16_t free_port() {
    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor probe(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    return probe.local_endpoint().port();
}

}  // namespace cppworker::engine
