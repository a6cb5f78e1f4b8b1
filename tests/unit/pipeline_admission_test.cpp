// The pipeline's admission and queue decisions, as plain functions (pipeline/admission.hpp), and
// the gate each route goes through (pipeline/route_gates.hpp).
#include "pipeline/admission.hpp"
#include "pipeline/route_gates.hpp"

#include <catch2/catch.hpp>

using namespace cppworker;
using pipeline::QueueStep;

TEST_CASE("admission: a bad signature is a 401, before the queue is looked at", "[unit][pipeline]") {
    for (const auto verdict : {auth::Verdict::no_key, auth::Verdict::bad_signature, auth::Verdict::replayed}) {
        const auto refusal = pipeline::refuse_admission(verdict, 1e9, 1, 1);
        REQUIRE(refusal);
        CHECK(refusal->status == 401);
        CHECK(refusal->why == auth::to_string(verdict));
    }
    CHECK_FALSE(pipeline::refuse_admission(auth::Verdict::accepted, 0, 1, 1));
    CHECK_FALSE(pipeline::refuse_admission(std::nullopt, 0, 1, 1));
}

TEST_CASE("admission: a queue estimate over max_queue_time is a 429", "[unit][pipeline]") {
    // 30 workload units queued at 10 per second: 3 s of wait.
    const auto refusal = pipeline::refuse_admission(std::nullopt, 30, 10, 2.5);
    REQUIRE(refusal);
    CHECK(refusal->status == 429);
    CHECK_FALSE(pipeline::refuse_admission(std::nullopt, 30, 10, 3));
    CHECK_FALSE(pipeline::refuse_admission(auth::Verdict::accepted, 30, 10, -1));
    // Before the benchmark nothing is known of the throughput: any queued work refuses.
    CHECK(pipeline::refuse_admission(std::nullopt, 1, 0, 60));
}

TEST_CASE("queue: a turn that came wins, and a client gone wins over a deadline passed", "[unit][pipeline]") {
    CHECK(pipeline::queue_step(true, true, true) == QueueStep::turn_came);
    CHECK(pipeline::queue_step(false, true, true) == QueueStep::client_left);
    CHECK(pipeline::queue_step(false, false, true) == QueueStep::timed_out);
    CHECK(pipeline::queue_step(false, false, false) == QueueStep::keep_waiting);
}

TEST_CASE("route gates: FIFO routes share one gate, a limited route has its own, a parallel one none",
          "[unit][pipeline]") {
    const std::vector<plugin::RouteSpec> routes{
        {CPPW_METHOD_POST, "/a", CPPW_CONCURRENCY_FIFO, 0, false, -1},
        {CPPW_METHOD_POST, "/b", CPPW_CONCURRENCY_FIFO, 0, false, -1},
        {CPPW_METHOD_POST, "/c", CPPW_CONCURRENCY_LIMIT, 2, false, -1},
        {CPPW_METHOD_POST, "/d", CPPW_CONCURRENCY_PARALLEL, 0, false, -1},
    };
    pipeline::RouteGates gates(routes);
    REQUIRE(gates.gate_for(0) != nullptr);
    CHECK(gates.gate_for(0) == gates.gate_for(1));
    REQUIRE(gates.gate_for(2) != nullptr);
    CHECK(gates.gate_for(2) != gates.gate_for(0));
    CHECK(gates.gate_for(3) == nullptr);

    // The limited gate lets two run; the third waits, as does the second FIFO request.
    CHECK(gates.gate_for(2)->enter(1, [] {}));
    CHECK(gates.gate_for(2)->enter(2, [] {}));
    CHECK_FALSE(gates.gate_for(2)->enter(3, [] {}));
    CHECK(gates.gate_for(0)->enter(4, [] {}));
    CHECK_FALSE(gates.gate_for(1)->enter(5, [] {}));
    CHECK(gates.queued() == 2);
}
