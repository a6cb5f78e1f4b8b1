#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace cppworker::autoscaler {

// Which REPORT_ADDR address a post tries first, so that an address that is down costs one try per
// back-off period instead of a round of failed tries on every post (issue 24).
//
// The rule, for one round of a post over a list of addresses (in REPORT_ADDR's order):
//  - the address that accepted a post most recently (the preferred one) goes first;
//  - an address before it in the list goes ahead of it, unless it failed last and its back-off
//    has not passed, or another post is trying it right now and it has not taken a post since
//    it last failed (or ever): PyWorker tries the list in order, so the first address that
//    answers is preferred again;
//  - every other address comes after, in list order: one that failed is tried again before its
//    back-off has passed only on its turn, when the addresses ahead of it failed too.
// The back-off of an address that fails grows with each failed try made once it had passed
// (10 s, 20 s, 40 s, then 60 s), and ends when it accepts a post.
//
// Values in, decision out: the caller passes the time and does the posting; nothing here reads a
// clock or does I/O. Not thread-safe: the posts that share one run on one event loop.
class AddressPreference {
public:
    using Clock = std::chrono::steady_clock;
    struct Settings {
        Clock::duration first_backoff = std::chrono::seconds(10);
        Clock::duration max_backoff = std::chrono::seconds(60);
    };

    AddressPreference() = default;
    explicit AddressPreference(Settings settings) : settings_(settings) {}

    // The order in which one round of a post tries `addresses` at `now`.
    std::vector<std::string> plan(const std::vector<std::string>& addresses, Clock::time_point now) const;

    // What became of a try: it starts, then the address accepted the post or failed to.
    void trying(const std::string& address);
    void accepted(const std::string& address);
    void failed(const std::string& address, Clock::time_point now);

    // The back-off after the `n`-th failure in a row (n ≥ 1).
    Clock::duration backoff(unsigned n) const;

private:
    struct Address {
        uint64_t accepted_serial = 0;  // when it last accepted, as a count of acceptances; 0: never
        unsigned failures = 0;         // failed tries in a row that counted toward the back-off
        Clock::time_point retry_at{};  // no probe before this
        bool trying = false;
    };
    bool held_back(const std::string& address, bool after_preferred, Clock::time_point now) const;

    Settings settings_;
    std::map<std::string, Address> addresses_;
    uint64_t acceptances_ = 0;
};

}  // namespace cppworker::autoscaler
