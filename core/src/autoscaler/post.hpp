#pragma once

#include "logging/repeated_failure.hpp"

#include <boost/asio/awaitable.hpp>

#include <string>
#include <vector>

namespace cppworker::autoscaler {

// POSTs `body` to `path` of the first address that takes it: 3 tries per address, 10 s each, 2 s
// apart (core/protocol.md §2.1). True when one answered below 400. Failures are logged through
// `failures`: the first at once, then a summary a minute per address and path, then the recovery.
boost::asio::awaitable<bool> post_with_failover(const std::vector<std::string>& addresses, const std::string& path,
                                                const std::string& body, logging::RepeatedFailure& failures);

// One line a minute for a failure that keeps coming back, per address and path.
logging::RepeatedFailure failure_log();

}  // namespace cppworker::autoscaler
