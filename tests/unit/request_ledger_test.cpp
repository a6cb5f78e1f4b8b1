#include "accounting/admission.hpp"
#include "accounting/request_ledger.hpp"

#include <catch2/catch.hpp>

using namespace cppworker::accounting;

TEST_CASE("ledger: a request moves its workload through the counters of §9", "[unit][ledger]") {
    RequestLedger l(100);
    const auto h = l.start(RequestIdentity{5, 50}, 30, true);
    auto s = l.snapshot();
    CHECK(s.received == 30);
    CHECK(s.in_flight == 30);
    CHECK(s.num_working == 1);
    CHECK(s.num_received_ever == 1);
    CHECK(s.working_request_idxs == std::vector<int64_t>{50});
    CHECK(l.queued_workload() == 30);

    l.finish(h, Outcome::success);
    s = l.snapshot();
    CHECK(s.served == 30);
    CHECK(s.in_flight == 0);
    CHECK(s.num_working == 0);
    CHECK(s.num_received_ever == 1);
    const auto batch = l.pending_deletes();
    REQUIRE(batch.entries.size() == 1);
    CHECK(batch.entries[0].request_idx == 50);
    CHECK(batch.entries[0].success);
    l.drop_deletes(batch);
    CHECK(l.pending_deletes().entries.empty());
}

TEST_CASE("ledger: cancelled counts as success for delete_requests, errors and rejects do not",
          "[unit][ledger]") {
    RequestLedger l(100);
    l.finish(l.start(RequestIdentity{1, 10}, 1, true), Outcome::cancel);
    l.finish(l.start(RequestIdentity{2, 20}, 2, true), Outcome::error);
    l.reject(RequestIdentity{3, 30}, 4);
    const auto s = l.snapshot();
    CHECK(s.cancelled == 1);
    CHECK(s.errored == 2);
    CHECK(s.rejected == 4);
    CHECK(s.received == 3);  // rejected work was never received
    CHECK(s.num_received_ever == 3);
    const auto d = l.pending_deletes().entries;
    REQUIRE(d.size() == 3);
    CHECK((d[0].request_idx == 10 && d[0].success));
    CHECK((d[1].request_idx == 20 && !d[1].success));
    CHECK((d[2].request_idx == 30 && !d[2].success));
    const auto t = l.totals();
    CHECK((t.started == 2 && t.cancelled == 1 && t.errored == 1 && t.rejected == 1));
}

TEST_CASE("ledger: requests in a session count as work but not as working requests", "[unit][ledger]") {
    RequestLedger l(100);
    const auto session = l.open_session(RequestIdentity{9, 90}, 100);
    const auto inner = l.start(RequestIdentity{9, 90}, 7, false);
    auto s = l.snapshot();
    CHECK(s.in_flight == 100);  // the session itself, with its cost
    CHECK(s.num_working == 1);
    CHECK(s.received == 107);
    CHECK(l.queued_workload() == 0);  // sessions do not queue anything
    l.finish(inner, Outcome::success);
    CHECK(l.pending_deletes().entries.empty());
    l.close_session(session);
    s = l.snapshot();
    CHECK(s.served == 107);
    CHECK(s.num_working == 0);
    const auto d = l.pending_deletes().entries;
    REQUIRE(d.size() == 1);
    CHECK((d[0].request_idx == 90 && d[0].success));
}

TEST_CASE("ledger: a report takes what it carried, what came meanwhile stays", "[unit][ledger]") {
    RequestLedger l(100);
    l.start(RequestIdentity{1, 1}, 5, true);
    l.finish(l.start(RequestIdentity{2, 2}, 3, true), Outcome::success);
    const auto reported = l.snapshot();
    l.finish(l.start(RequestIdentity{3, 3}, 4, true), Outcome::success);  // while the report was in flight
    l.consume_interval(reported);
    const auto s = l.snapshot();
    CHECK(s.received == 4);
    CHECK(s.served == 4);
    CHECK(s.in_flight == 5);
    CHECK(s.num_received_ever == 3);
    CHECK(l.totals().workload_served == 7);
}

TEST_CASE("ledger: the generation moves on start, success, error and reject, not on cancel", "[unit][ledger]") {
    RequestLedger l(100);
    const auto g0 = l.generation();
    const auto h = l.start(std::nullopt, 1, true);
    CHECK(l.generation() == g0 + 1);
    l.finish(h, Outcome::cancel);
    CHECK(l.generation() == g0 + 1);
    l.reject(std::nullopt, 1);
    CHECK(l.generation() == g0 + 2);
}

TEST_CASE("ledger: delete entries stay until delivered, in batches of a bounded size", "[unit][ledger]") {
    RequestLedger l(100);
    l.reject(RequestIdentity{1, 10}, 1);
    l.reject(RequestIdentity{2, 20}, 1);
    l.reject(RequestIdentity{3, 30}, 1);
    const auto first = l.pending_deletes(2);
    REQUIRE(first.entries.size() == 2);
    CHECK(l.pending_deletes(2).entries[0].request_idx == 10);  // not delivered yet: still there
    l.drop_deletes(first);
    const auto rest = l.pending_deletes(2);
    REQUIRE(rest.entries.size() == 1);
    CHECK(rest.entries[0].request_idx == 30);
    l.drop_deletes(rest);
    l.drop_deletes(first);  // a batch delivered twice takes nothing newer
    CHECK(l.pending_deletes().entries.empty());
    CHECK(l.totals().undelivered == 0);
}

TEST_CASE("ledger: past max_undelivered the oldest delete entries go, counted", "[unit][ledger]") {
    RequestLedger l(3);
    for (int64_t i = 1; i <= 5; ++i) l.reject(RequestIdentity{i, i * 10}, 1);
    const auto batch = l.pending_deletes();
    REQUIRE(batch.entries.size() == 3);
    CHECK(batch.entries[0].request_idx == 30);
    CHECK(batch.entries[2].request_idx == 50);
    CHECK(l.totals().undelivered_dropped == 2);
    CHECK(l.totals().undelivered == 3);

    // Entries dropped while a batch was on its way leave nothing newer behind it dropped too.
    const auto in_flight = l.pending_deletes(2);  // 30, 40
    l.reject(RequestIdentity{6, 60}, 1);         // drops 30
    l.reject(RequestIdentity{7, 70}, 1);         // drops 40
    l.drop_deletes(in_flight);
    const auto left = l.pending_deletes().entries;
    REQUIRE(left.size() == 3);
    CHECK(left[0].request_idx == 50);
    CHECK(left[2].request_idx == 70);
}

TEST_CASE("ledger: delete entries keep their index and outcome however large", "[unit][ledger]") {
    RequestLedger l(10);
    const int64_t large = int64_t{1} << 61;
    l.reject(RequestIdentity{1, large}, 1);
    l.finish(l.start(RequestIdentity{2, 0}, 1, true), Outcome::success);
    l.finish(l.start(RequestIdentity{3, -7}, 1, true), Outcome::cancel);
    const auto d = l.pending_deletes().entries;
    REQUIRE(d.size() == 3);
    CHECK((d[0].request_idx == large && !d[0].success));
    CHECK((d[1].request_idx == 0 && d[1].success));
    CHECK((d[2].request_idx == -7 && d[2].success));
}

TEST_CASE("ledger: without an autoscaler no delete entry is kept", "[unit][ledger]") {
    RequestLedger l(0);
    l.finish(l.start(RequestIdentity{1, 10}, 1, true), Outcome::success);
    l.reject(RequestIdentity{2, 20}, 1);
    CHECK(l.pending_deletes().entries.empty());
    CHECK(l.totals().undelivered_dropped == 0);
}

TEST_CASE("ledger: nothing of a finished request stays but its delete entry", "[unit][ledger]") {
    RequestLedger l(0);
    for (int64_t i = 0; i < 10'000; ++i) {
        const auto h = l.start(RequestIdentity{i, i}, 1, true);
        l.finish(h, i % 3 == 0 ? Outcome::error : i % 3 == 1 ? Outcome::cancel : Outcome::success);
        l.reject(RequestIdentity{i, i}, 1);
        l.close_session(l.open_session(RequestIdentity{i, i}, 1));
    }
    const auto t = l.totals();
    CHECK(t.working == 0);
    CHECK(t.undelivered == 0);
    const auto s = l.snapshot();
    CHECK(s.num_working == 0);
    CHECK(s.working_request_idxs.empty());
    CHECK(s.num_received_ever == 30'000);  // a count, not a set of what was seen
}

TEST_CASE("ledger: requests without auth_data count but stay out of the autoscaler's lists", "[unit][ledger]") {
    RequestLedger l(100);
    l.finish(l.start(std::nullopt, 2, true), Outcome::success);
    l.reject(std::nullopt, 1);
    const auto s = l.snapshot();
    CHECK(s.served == 2);
    CHECK(s.rejected == 1);
    CHECK(s.num_received_ever == 0);
    CHECK(l.pending_deletes().entries.empty());
}

TEST_CASE("admission: PyWorker's queue-time estimate", "[unit][admission]") {
    CHECK_FALSE(over_queue_limit(1e9, 1, -1));   // no limit
    CHECK_FALSE(over_queue_limit(0, 0, 30));     // nothing queued
    CHECK(over_queue_limit(1, 0, 30));           // before a benchmark, any queued work refuses
    CHECK_FALSE(over_queue_limit(300, 10, 30));  // 30 s exactly is allowed
    CHECK(over_queue_limit(301, 10, 30));
}

TEST_CASE("ledger: a worker carries on the figures of the worker it replaced", "[unit][ledger]") {
    RequestLedger l(100);
    const auto h = l.start(RequestIdentity{1, 10}, 5, true);
    l.finish(h, Outcome::success);
    const auto before = l.generation();
    LedgerSnapshot unreported;
    unreported.received = 7;
    unreported.served = 6;
    unreported.rejected = 2;
    l.carry_over(40, unreported);
    CHECK(l.generation() > before);  // so that a report goes out soon
    auto s = l.snapshot();
    CHECK(s.num_received_ever == 41);
    CHECK(s.received == 12);
    CHECK(s.served == 11);
    CHECK(s.rejected == 2);
    // What a report carried is taken off as usual; the cumulative count stays.
    l.consume_interval(s);
    s = l.snapshot();
    CHECK(s.received == 0);
    CHECK(s.served == 0);
    CHECK(s.num_received_ever == 41);
    // Carried figures are the autoscaler's, not this process's /metrics.
    CHECK(l.totals().started == 1);
}

TEST_CASE("ledger: an invalid request is counted in the totals only, never in a report", "[unit][ledger]") {
    RequestLedger l(100);
    const auto before = l.generation();
    l.invalid();
    l.invalid();
    CHECK(l.totals().invalid == 2);
    CHECK(l.totals().rejected == 0);
    const auto s = l.snapshot();
    CHECK(s.rejected == 0);
    CHECK(s.received == 0);
    CHECK(s.num_received_ever == 0);
    CHECK(l.pending_deletes().entries.empty());
    // No report is hurried for it either.
    CHECK(l.generation() == before);
}
