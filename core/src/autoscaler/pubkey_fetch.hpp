#pragma once

#include "auth/authenticator.hpp"

#include <boost/asio/awaitable.hpp>

#include <string>

namespace cppworker::autoscaler {

// GET {report_addr}/pubkey/ as PyWorker does (core/protocol.md §2.3), trailing '/' dropped; 5 tries
// 10 s each, 1, 2, 4, 8 s apart. Installs the key, or logs why it could not. PyWorker asks the whole
// REPORT_ADDR string, which fails for a list; the caller passes its first address.
boost::asio::awaitable<void> fetch_pubkey(std::string report_addr, auth::Authenticator& authenticator);

}  // namespace cppworker::autoscaler
