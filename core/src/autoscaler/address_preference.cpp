#include "autoscaler/address_preference.hpp"

#include <algorithm>
#include <optional>

namespace cppworker::autoscaler {

std::vector<std::string> AddressPreference::plan(const std::vector<std::string>& addresses,
                                                 Clock::time_point now) const {
    std::optional<std::size_t> preferred;
    uint64_t latest = 0;
    for (std::size_t i = 0; i < addresses.size(); ++i) {
        const auto it = addresses_.find(addresses[i]);
        if (it != addresses_.end() && it->second.accepted_serial > latest) {
            latest = it->second.accepted_serial;
            preferred = i;
        }
    }
    std::vector<std::string> ahead, behind;
    for (std::size_t i = 0; i < addresses.size(); ++i) {
        const bool after_preferred = preferred && i > *preferred;
        if (i != preferred && held_back(addresses[i], after_preferred, now)) {
            behind.push_back(addresses[i]);
        } else {
            ahead.push_back(addresses[i]);
        }
    }
    ahead.insert(ahead.end(), behind.begin(), behind.end());
    return ahead;
}

bool AddressPreference::held_back(const std::string& address, bool after_preferred, Clock::time_point now) const {
    if (after_preferred) return true;
    const auto it = addresses_.find(address);
    if (it == addresses_.end()) return false;
    // One post at a time finds out whether an address that failed last, or was never tried,
    // works; one that took the last post it was sent may be tried by two at once.
    const auto& a = it->second;
    const bool proven = a.accepted_serial > 0 && a.failures == 0;
    return (a.failures > 0 && now < a.retry_at) || (a.trying && !proven);
}

void AddressPreference::trying(const std::string& address) { addresses_[address].trying = true; }

void AddressPreference::accepted(const std::string& address) {
    auto& a = addresses_[address];
    a.accepted_serial = ++acceptances_;
    a.failures = 0;
    a.retry_at = {};
    a.trying = false;
}

void AddressPreference::failed(const std::string& address, Clock::time_point now) {
    auto& a = addresses_[address];
    a.trying = false;
    // A try within the back-off (on its turn, or by a post that began before the failure that
    // started it) says nothing new: the back-off grows only when a try after it fails.
    if (a.failures > 0 && now < a.retry_at) return;
    ++a.failures;
    a.retry_at = now + backoff(a.failures);
}

AddressPreference::Clock::duration AddressPreference::backoff(unsigned n) const {
    auto d = settings_.first_backoff;
    for (unsigned i = 1; i < n && d < settings_.max_backoff; ++i) d *= 2;
    return std::min(d, settings_.max_backoff);
}

}  // namespace cppworker::autoscaler
