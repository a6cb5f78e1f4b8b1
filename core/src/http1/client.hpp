#pragma once

#include "http1/url.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/verb.hpp>

#include <chrono>
#include <string>

namespace cppworker::http1 {

struct HttpResult {
    unsigned status = 0;
    std::string body;
};

// One request on a fresh connection, http or https (system CAs, host name checked), with one
// deadline for the whole exchange, the name lookup included. Run it on a strand or a one-thread loop. Throws boost::system::system_error on any failure; a status
// is not a failure.
boost::asio::awaitable<HttpResult> http_call(boost::beast::http::verb method, Url url, std::string body,
                                             std::string content_type, std::chrono::milliseconds timeout);

}  // namespace cppworker::http1
