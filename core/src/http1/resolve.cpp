#include "http1/resolve.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <memory>

namespace cppworker::http1 {
namespace asio = boost::asio;
using asio::ip::tcp;

asio::awaitable<std::optional<Resolved>> resolve_within(asio::any_io_executor executor, std::string host,
                                                        std::string port, std::chrono::milliseconds limit) {
    // Shared with the lookup's handler, which may outlive this coroutine.
    struct Lookup {
        tcp::resolver resolver;
        asio::steady_timer done;
        std::optional<Resolved> result;
    };
    auto lookup = std::make_shared<Lookup>(Lookup{tcp::resolver(executor), asio::steady_timer(executor, limit), {}});
    lookup->resolver.async_resolve(host, port, [lookup](boost::system::error_code ec, tcp::resolver::results_type r) {
        lookup->result = Resolved{ec, std::move(r)};
        lookup->done.cancel();
    });
    co_await lookup->done.async_wait(asio::as_tuple(asio::use_awaitable));
    co_return lookup->result;
}

}  // namespace cppworker::http1
