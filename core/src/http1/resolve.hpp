#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <optional>
#include <string>

namespace cppworker::http1 {

struct Resolved {
    boost::system::error_code error;
    boost::asio::ip::tcp::resolver::results_type endpoints;
};

// Looks `host` up, giving up after `limit`: nothing then. The C library's lookup cannot be
// interrupted (Asio runs it on a thread of its own, and a cancelled one completes only when the
// library gives up, 10 s and more for a silent name server), so it goes on alone in the
// background and the caller stops waiting. `executor` must be the caller's own: a strand, or
// a loop only one thread runs.
boost::asio::awaitable<std::optional<Resolved>> resolve_within(boost::asio::any_io_executor executor, std::string host,
                                                               std::string port, std::chrono::milliseconds limit);

}  // namespace cppworker::http1
