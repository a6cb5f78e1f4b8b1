#include "autoscaler/startup_beacon.hpp"

#include "http1/client.hpp"
#include "logging/error_text.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <spdlog/spdlog.h>

namespace cppworker::autoscaler {
namespace asio = boost::asio;

namespace {

asio::awaitable<void> send_startup_error(std::vector<std::string> addresses, std::string body) {
    for (const auto& address : addresses) {
        const auto url = http1::parse_url(address + "/worker_status/");
        if (!url) continue;
        try {
            const auto r = co_await http1::http_call(boost::beast::http::verb::post, *url, body, "application/json",
                                                     std::chrono::seconds(10));
            spdlog::info("start-up error reported to {} ({})", address, r.status);
        } catch (const std::exception& e) {
            spdlog::warn("start-up error could not be reported to {}: {}", address, logging::error_text(e));
        }
    }
}

}  // namespace

WorkerIdentity identity_of(const config::Config& c) {
    return WorkerIdentity{c.container_id.value_or(0), c.master_token, "1.1.0",
                          worker_url(c.use_ssl, c.public_ip, c.external_port)};
}

void report_startup_error(const config::Config& c, const std::string& message) {
    if (c.report_addr.empty()) return;
    const auto who = identity_of(c);
    asio::io_context io;
    asio::co_spawn(io, send_startup_error(split_report_addrs(c.report_addr),
                                          startup_error_body(who.id, who.mtoken, who.version, message, who.url)),
                   asio::detached);
    io.run();
}

}  // namespace cppworker::autoscaler
