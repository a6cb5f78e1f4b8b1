#include "autoscaler/pubkey_fetch.hpp"

#include "async/sleep.hpp"
#include "logging/error_text.hpp"
#include "http1/client.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <spdlog/spdlog.h>

namespace cppworker::autoscaler {

boost::asio::awaitable<void> fetch_pubkey(std::string report_addr, auth::Authenticator& authenticator) {
    using namespace std::chrono_literals;
    while (!report_addr.empty() && report_addr.back() == '/') report_addr.pop_back();
    const std::string address = report_addr + "/pubkey/";
    const auto url = http1::parse_url(address);
    if (!url) {
        spdlog::error("cannot fetch the public key: '{}' is not an http(s) URL; every signed request gets 401",
                      address);
        co_return;
    }
    constexpr int attempts = 5;
    auto pause = 1s;
    for (int attempt = 1; attempt <= attempts; ++attempt) {
        std::string problem;
        try {
            const auto result = co_await http1::http_call(boost::beast::http::verb::get, *url, {}, {}, 10s);
            if (result.status == 200) {
                authenticator.set_key(auth::SignatureVerifier::from_pem(result.body));
                spdlog::info("public key loaded from {}", address);
                co_return;
            }
            problem = "status " + std::to_string(result.status);
        } catch (const std::exception& e) {
            problem = logging::error_text(e);
        }
        spdlog::warn("public key fetch {}/{} from {} failed: {}", attempt, attempts, address, problem);
        if (attempt == attempts) break;
        co_await async::sleep_for(pause);
        pause *= 2;
    }
    spdlog::error("Failed to get Serverless public key after all retry attempts; every signed request gets 401");
}

}  // namespace cppworker::autoscaler
