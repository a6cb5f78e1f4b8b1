#include "autoscaler/address_preference.hpp"

#include <catch2/catch.hpp>

#include <functional>
#include <set>

using namespace std::chrono_literals;
using cppworker::autoscaler::AddressPreference;
using Strings = std::vector<std::string>;

namespace {

const AddressPreference::Clock::time_point t0{};
const Strings both{"A", "B"};

// One post as post_with_failover makes it, with its rounds' pauses left out: each address of the
// plan in turn until one accepts. `up` says which do. Returns the addresses tried, in order.
Strings post(AddressPreference& p, const Strings& addresses, AddressPreference::Clock::time_point now,
             const std::function<bool(const std::string&)>& up) {
    Strings tried;
    for (const auto& a : p.plan(addresses, now)) {
        p.trying(a);
        tried.push_back(a);
        if (up(a)) {
            p.accepted(a);
            return tried;
        }
        p.failed(a, now);
    }
    return tried;
}

}  // namespace

TEST_CASE("address preference: knowing nothing, a post tries the addresses in REPORT_ADDR's order",
          "[unit][autoscaler]") {
    AddressPreference p;
    CHECK(p.plan(both, t0) == both);
    CHECK(p.plan({"A", "B", "C"}, t0) == Strings{"A", "B", "C"});
}

TEST_CASE("address preference: a dead first address is tried once per back-off, which grows to a minute",
          "[unit][autoscaler]") {
    AddressPreference p;
    CHECK(p.backoff(1) == 10s);
    CHECK(p.backoff(2) == 20s);
    CHECK(p.backoff(3) == 40s);
    CHECK(p.backoff(4) == 60s);
    CHECK(p.backoff(40) == 60s);

    const auto only_b = [](const std::string& a) { return a == "B"; };
    CHECK(post(p, both, t0, only_b) == both);
    // Until the back-off has passed, every post goes to B alone.
    CHECK(post(p, both, t0 + 1s, only_b) == Strings{"B"});
    CHECK(post(p, both, t0 + 9999ms, only_b) == Strings{"B"});
    CHECK(post(p, both, t0 + 10s, only_b) == both);  // the probe
    CHECK(post(p, both, t0 + 29s, only_b) == Strings{"B"});
    CHECK(post(p, both, t0 + 30s, only_b) == both);

    // A post a second for ten minutes: A is tried at 0, 10, 30, 70, then every 60 s.
    AddressPreference q;
    std::vector<int> probes;
    for (int s = 0; s < 600; ++s) {
        const auto tried = post(q, both, t0 + std::chrono::seconds(s), only_b);
        CHECK(tried.back() == "B");
        if (tried.front() == "A") probes.push_back(s);
    }
    CHECK(probes == std::vector<int>{0, 10, 30, 70, 130, 190, 250, 310, 370, 430, 490, 550});
}

TEST_CASE("address preference: the first address is preferred again once it answers", "[unit][autoscaler]") {
    AddressPreference p;
    bool a_up = false;
    const auto up = [&](const std::string& a) { return a == "B" || a_up; };
    CHECK(post(p, both, t0, up) == both);
    CHECK(post(p, both, t0 + 5s, up) == Strings{"B"});
    a_up = true;
    // Still in its back-off: A is not asked yet.
    CHECK(post(p, both, t0 + 6s, up) == Strings{"B"});
    CHECK(post(p, both, t0 + 10s, up) == Strings{"A"});
    // From then on A takes every post, and B, behind it, is not tried while A answers.
    CHECK(p.plan(both, t0 + 11s) == both);
    CHECK(post(p, both, t0 + 11s, up) == Strings{"A"});
    CHECK(post(p, both, t0 + 100s, up) == Strings{"A"});
}

TEST_CASE("address preference: the address that took the last post goes first, even after it failed once",
          "[unit][autoscaler]") {
    AddressPreference p;
    p.failed("A", t0);
    p.accepted("B");
    // B fails a post (a 500, say) and A, in its back-off, fails on its turn: B is still the one
    // that accepted last, so the next post asks it first again.
    p.failed("B", t0 + 1s);
    p.failed("A", t0 + 1s);
    CHECK(p.plan(both, t0 + 2s) == Strings{"B", "A"});
    // A's try on its turn did not lengthen its back-off: it is probed 10 s after its first failure.
    CHECK(p.plan(both, t0 + 10s) == both);
}

TEST_CASE("address preference: with every address down, each round tries them all", "[unit][autoscaler]") {
    AddressPreference p;
    const auto none = [](const std::string&) { return false; };
    CHECK(post(p, both, t0, none) == both);
    CHECK(post(p, both, t0 + 2s, none) == both);
    p.accepted("B");
    p.failed("B", t0 + 5s);
    CHECK(post(p, both, t0 + 6s, none) == Strings{"B", "A"});
    // B comes back: the first try of the next post finds it.
    CHECK(post(p, both, t0 + 8s, [](const std::string& a) { return a == "B"; }) == Strings{"B"});
}

TEST_CASE("address preference: an address another post is trying is not probed by a second one",
          "[unit][autoscaler]") {
    AddressPreference p;
    p.failed("A", t0);
    p.accepted("B");
    // At t0 + 10 s the status post probes A, which hangs (a peer that drops packets): the delete
    // post made meanwhile goes to B at once and tries A only on its turn.
    CHECK(p.plan(both, t0 + 10s) == both);
    p.trying("A");
    CHECK(p.plan(both, t0 + 11s) == Strings{"B", "A"});
    p.failed("A", t0 + 20s);
    CHECK(p.plan(both, t0 + 21s) == Strings{"B", "A"});
    CHECK(p.plan(both, t0 + 40s) == both);  // 20 s after that failure
}

TEST_CASE("address preference: an address that took the last post it was sent is tried by two posts at once",
          "[unit][autoscaler]") {
    // The status and the delete posts run in step: one trying the first address must not send the
    // other to the second, or the second would keep taking every other post.
    AddressPreference p;
    p.accepted("A");
    p.accepted("B");
    p.trying("A");
    CHECK(p.plan(both, t0) == both);
    p.accepted("A");
    p.trying("A");
    CHECK(p.plan(both, t0) == both);
}

TEST_CASE("address preference: addresses after the preferred one wait their turn, in list order",
          "[unit][autoscaler]") {
    AddressPreference p;
    const Strings three{"A", "B", "C"};
    p.failed("A", t0);
    p.accepted("B");
    CHECK(p.plan(three, t0 + 1s) == Strings{"B", "A", "C"});
    // A list without some of the addresses (the delete posts skip cloud.vast.ai) is planned on
    // what is known of those it has.
    CHECK(p.plan({"C"}, t0 + 1s) == Strings{"C"});
    CHECK(p.plan({"A", "C"}, t0 + 1s) == Strings{"C", "A"});
    CHECK(p.plan({"A", "C"}, t0 + 10s) == Strings{"A", "C"});
}
