#include "accounting/admission.hpp"
#include "accounting/request_ledger.hpp"

#include <catch2/catch.hpp>

using namespace cppworker::accounting;

TEST_CASE("ledger: a request moves its workload through the counters of §9", "[unit][ledger]") {
    RequestLedger l;
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
    const auto deletes = l.pending_deletes();
    REQUIRE(deletes.size() == 1);
    CHECK(deletes[0].request_idx == 50);
    CHECK(deletes[0].success);
    l.drop_deletes(1);
    CHECK(l.pending_deletes().empty());
}

TEST_CASE("ledger: cancelled counts as success for delete_requests, errors and rejects do not",
          "[unit][ledger]") {
    RequestLedger l;
    l.finish(l.start(RequestIdentity{1, 10}, 1, true), Outcome::cancel);
    l.finish(l.start(RequestIdentity{2, 20}, 2, true), Outcome::error);
    l.reject(RequestIdentity{3, 30}, 4);
    const auto s = l.snapshot();
    CHECK(s.cancelled == 1);
    CHECK(s.errored == 2);
    CHECK(s.rejected == 4);
    CHECK(s.received == 3);  // rejected work was never received
    CHECK(s.num_received_ever == 3);
    const auto d = l.pending_deletes();
    REQUIRE(d.size() == 3);
    CHECK((d[0].request_idx == 10 && d[0].success));
    CHECK((d[1].request_idx == 20 && !d[1].success));
    CHECK((d[2].request_idx == 30 && !d[2].success));
    const auto t = l.totals();
    CHECK((t.started == 2 && t.cancelled == 1 && t.errored == 1 && t.rejected == 1));
}

TEST_CASE("ledger: requests in a session count as work but not as working requests", "[unit][ledger]") {
    RequestLedger l;
    const auto session = l.open_session(RequestIdentity{9, 90}, 100);
    const auto inner = l.start(RequestIdentity{9, 90}, 7, false);
    auto s = l.snapshot();
    CHECK(s.in_flight == 100);  // the session itself, with its cost
    CHECK(s.num_working == 1);
    CHECK(s.received == 107);
    CHECK(l.queued_workload() == 0);  // sessions do not queue anything
    l.finish(inner, Outcome::success);
    CHECK(l.pending_deletes().empty());
    l.close_session(session);
    s = l.snapshot();
    CHECK(s.served == 107);
    CHECK(s.num_working == 0);
    const auto d = l.pending_deletes();
    REQUIRE(d.size() == 1);
    CHECK((d[0].request_idx == 90 && d[0].success));
}

TEST_CASE("ledger: a report takes what it carried, what came meanwhile stays", "[unit][ledger]") {
    RequestLedger l;
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
    RequestLedger l;
    const auto g0 = l.generation();
    const auto h = l.start(std::nullopt, 1, true);
    CHECK(l.generation() == g0 + 1);
    l.finish(h, Outcome::cancel);
    CHECK(l.generation() == g0 + 1);
    l.reject(std::nullopt, 1);
    CHECK(l.generation() == g0 + 2);
}

TEST_CASE("ledger: delete entries stay until delivered", "[unit][ledger]") {
    RequestLedger l;
    l.reject(RequestIdentity{1, 10}, 1);
    l.reject(RequestIdentity{2, 20}, 1);
    l.drop_deletes(1);
    const auto d = l.pending_deletes();
    REQUIRE(d.size() == 1);
    CHECK(d[0].request_idx == 20);
    l.drop_deletes(5);
    CHECK(l.pending_deletes().empty());
}

TEST_CASE("ledger: requests without auth_data count but stay out of the autoscaler's lists", "[unit][ledger]") {
    RequestLedger l;
    l.finish(l.start(std::nullopt, 2, true), Outcome::success);
    l.reject(std::nullopt, 1);
    const auto s = l.snapshot();
    CHECK(s.served == 2);
    CHECK(s.rejected == 1);
    CHECK(s.num_received_ever == 0);
    CHECK(l.pending_deletes().empty());
}

TEST_CASE("admission: PyWorker's queue-time estimate", "[unit][admission]") {
    CHECK_FALSE(over_queue_limit(1e9, 1, -1));   // no limit
    CHECK_FALSE(over_queue_limit(0, 0, 30));     // nothing queued
    CHECK(over_queue_limit(1, 0, 30));           // before a benchmark, any queued work refuses
    CHECK_FALSE(over_queue_limit(300, 10, 30));  // 30 s exactly is allowed
    CHECK(over_queue_limit(301, 10, 30));
}
