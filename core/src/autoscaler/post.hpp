#pragma once

#include "autoscaler/address_preference.hpp"
#include "logging/repeated_failure.hpp"

#include <boost/asio/awaitable.hpp>

#include <map>
#include <string>
#include <vector>

namespace cppworker::autoscaler {

// One line a minute for a failure that keeps coming back, per address and path.
logging::RepeatedFailure failure_log();

// What the posts of one worker to its autoscaler share: which addresses take posts (the rule of
// AddressPreference), what has been logged about those that fail, and where each path's posts
// went last, so that a change of address is logged once. The posts that share it run on one
// event loop.
struct Failover {
    AddressPreference preference;
    logging::RepeatedFailure failures = failure_log();
    std::map<std::string, std::string> taker;  // path → the address that took the last post to it
};

// POSTs `body` to `path` of the first address that takes it (status below 400), in up to 3
// rounds 2 s apart (core/protocol.md §2.1: 3 tries of 10 s per address, 2 s after each failure),
// each round over the addresses in the order `failover.preference` plans. True when one took it.
// Failures are logged through `failover.failures`: the first at once, then a summary a minute per
// address and path, then the recovery; a post that goes to another address than the last one
// did is logged too.
boost::asio::awaitable<bool> post_with_failover(Failover& failover, const std::vector<std::string>& addresses,
                                                const std::string& path, const std::string& body);

}  // namespace cppworker::autoscaler
