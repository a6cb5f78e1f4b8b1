#pragma once

#include <boost/asio/ssl/context.hpp>

#include <filesystem>

namespace cppworker::http {

// USE_SSL: the server's TLS settings, with the instance's certificate chain and key (TLS 1.2 and
// up). Throws std::runtime_error naming the file that cannot be used.
boost::asio::ssl::context make_tls_context(const std::filesystem::path& cert, const std::filesystem::path& key);

}  // namespace cppworker::http
