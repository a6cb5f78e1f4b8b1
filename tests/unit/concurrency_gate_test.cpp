#include "accounting/concurrency_gate.hpp"

#include <catch2/catch.hpp>

#include <vector>

using cppworker::accounting::ConcurrencyGate;

TEST_CASE("gate: at most N run, the rest wait in arrival order", "[unit][gate]") {
    ConcurrencyGate gate(2);
    std::vector<int> turns;
    CHECK(gate.enter(1, [] {}));
    CHECK(gate.enter(2, [] {}));
    CHECK_FALSE(gate.enter(3, [&] { turns.push_back(3); }));
    CHECK_FALSE(gate.enter(4, [&] { turns.push_back(4); }));
    CHECK(gate.running() == 2);
    CHECK(gate.queued() == 2);

    gate.exit();
    CHECK(turns == std::vector<int>{3});
    CHECK(gate.running() == 2);  // the slot passed straight to 3
    gate.exit();
    gate.exit();
    CHECK(turns == std::vector<int>{3, 4});
    gate.exit();
    CHECK(gate.running() == 0);
}

TEST_CASE("gate: a newcomer cannot overtake the queue", "[unit][gate]") {
    ConcurrencyGate gate(1);
    bool second_turn = false;
    CHECK(gate.enter(1, [] {}));
    CHECK_FALSE(gate.enter(2, [&] { second_turn = true; }));
    gate.exit();
    CHECK(second_turn);
    CHECK_FALSE(gate.enter(3, [] {}));  // 2 holds the only slot now
}

TEST_CASE("gate: a waiter that leaves is gone at once", "[unit][gate]") {
    ConcurrencyGate gate(1);
    bool turn = false;
    CHECK(gate.enter(1, [] {}));
    CHECK_FALSE(gate.enter(2, [&] { turn = true; }));
    CHECK(gate.leave_queue(2));
    CHECK(gate.queued() == 0);
    gate.exit();
    CHECK_FALSE(turn);
    CHECK(gate.running() == 0);
    CHECK_FALSE(gate.leave_queue(2));  // not queued any more
}
