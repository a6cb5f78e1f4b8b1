// The request scope releases what a request holds however its handling ends: with an exception
// thrown at each stage, every counter is back where it started.
#include "pipeline/request_scope.hpp"

#include <catch2/catch.hpp>

#include <stdexcept>

using namespace cppworker;
using accounting::Outcome;
using accounting::RequestIdentity;

namespace {

struct Worker {
    requests::RequestRegistry registry{1024};
    accounting::RequestLedger ledger{100};
    metrics::RouteMetrics metrics{{"POST /run"}};
    accounting::ConcurrencyGate gate{1};
    unsigned written_status = metrics::RouteMetrics::client_closed;

    pipeline::RequestScope::Parts parts() { return {registry, &ledger, &metrics}; }
};

enum class Stage { registered, rejected, started, holding, with_plugin, finished };

// Takes one request through the stages up to `last`, then throws.
void run_until(Worker& w, Stage last, std::shared_ptr<requests::PendingRequest>& seen) {
    pipeline::RequestScope scope(w.parts(), 0, w.written_status);
    seen = scope.pending();
    const auto stop_after = [&](Stage s) {
        if (s == last) throw std::runtime_error("thrown after this stage");
    };
    stop_after(Stage::registered);
    if (last == Stage::rejected) {
        scope.reject(RequestIdentity{1, 1}, 5, true);
        stop_after(Stage::rejected);
    }
    scope.start(RequestIdentity{2, 2}, 7, true);
    stop_after(Stage::started);
    REQUIRE(w.gate.enter(seen->id(), [] {}));
    scope.hold(w.gate);
    stop_after(Stage::holding);
    scope.hand_to_plugin();
    REQUIRE(seen->begin_handle());
    stop_after(Stage::with_plugin);
    w.written_status = 200;
    scope.finish(Outcome::success);
    stop_after(Stage::finished);
}

}  // namespace

TEST_CASE("request scope: an exception at any stage leaves nothing held", "[unit][pipeline]") {
    for (const auto stage : {Stage::registered, Stage::rejected, Stage::started, Stage::holding, Stage::with_plugin,
                             Stage::finished}) {
        INFO("stage " << static_cast<int>(stage));
        Worker w;
        std::shared_ptr<requests::PendingRequest> pending;
        CHECK_THROWS_AS(run_until(w, stage, pending), std::runtime_error);

        const auto totals = w.ledger.totals();
        CHECK(totals.working == 0);
        CHECK(w.ledger.snapshot().in_flight == 0);
        CHECK(w.ledger.queued_workload() == 0);
        CHECK(w.gate.running() == 0);
        // Observed once, with what the client got (499: nothing).
        const std::string code = stage == Stage::finished ? "200" : "499";
        CHECK_THAT(w.metrics.format(),
                   Catch::Contains("cppworker_route_requests_total{route=\"POST /run\",code=\"" + code + "\"} 1"));
        const bool handed = stage == Stage::with_plugin || stage == Stage::finished;
        // A request the plugin has stays registered for the plugin to complete; the others go.
        CHECK(w.registry.size() == (handed ? 1u : 0u));
        const bool started = stage != Stage::registered && stage != Stage::rejected;
        // Started and not finished: counted as cancelled, and the plugin is told.
        CHECK(totals.cancelled == (started && stage != Stage::finished ? 1u : 0u));
        CHECK(pending->cancelled() == (started && stage != Stage::finished));
        CHECK(totals.succeeded == (stage == Stage::finished ? 1u : 0u));
        CHECK(totals.rejected == (stage == Stage::rejected ? 1u : 0u));
    }
}

TEST_CASE("request scope: the slot is freed at finish, before the scope ends", "[unit][pipeline]") {
    Worker w;
    pipeline::RequestScope scope(w.parts(), 0, w.written_status);
    scope.start(std::nullopt, 1, true);
    REQUIRE(w.gate.enter(scope.pending()->id(), [] {}));
    scope.hold(w.gate);
    bool next_ran = false;
    CHECK_FALSE(w.gate.enter(99, [&] { next_ran = true; }));
    scope.finish(Outcome::success);
    CHECK(next_ran);
    CHECK(w.ledger.totals().succeeded == 1);
}

TEST_CASE("request scope: the plugin's completion removes a handed request, however late", "[unit][pipeline]") {
    Worker w;
    std::shared_ptr<requests::PendingRequest> answered, refused, left;
    {
        pipeline::RequestScope scope(w.parts(), 0, w.written_status);
        answered = scope.pending();
        scope.start(std::nullopt, 1, true);
        scope.hand_to_plugin();
        REQUIRE(w.registry.find(answered->id()) == answered);
        REQUIRE(answered->respond(requests::Answer{}) == CPPW_OK);
        CHECK(w.registry.find(answered->id()) == nullptr);
        scope.finish(Outcome::success);
    }
    {
        pipeline::RequestScope scope(w.parts(), 0, w.written_status);
        refused = scope.pending();
        scope.start(std::nullopt, 1, true);
        scope.hand_to_plugin();
        refused->refuse("handle failed");
        CHECK(w.registry.find(refused->id()) == nullptr);
        scope.finish(Outcome::error);
    }
    {
        // The client left before the plugin answered: the entry stays for the plugin's late call,
        // which then hears CPPW_CANCELLED and completes it.
        pipeline::RequestScope scope(w.parts(), 0, w.written_status);
        left = scope.pending();
        scope.start(std::nullopt, 1, true);
        scope.hand_to_plugin();
        REQUIRE(left->begin_handle());
    }
    REQUIRE(w.registry.find(left->id()) == left);
    CHECK(left->cancelled());
    CHECK(left->respond(requests::Answer{}) == CPPW_CANCELLED);
    CHECK(w.registry.size() == 0);
    CHECK(w.ledger.totals().cancelled == 1);
}

TEST_CASE("request scope: a request given up before handle began is withdrawn, its state released once",
          "[unit][pipeline]") {
    Worker w;
    int released = 0;
    w.registry.set_state_release([&](void* state) {
        ++released;
        CHECK(state == &w);
    });
    // The scope ends first (the client left while the call waited for a pool thread), then the
    // pool reaches the call; and the other way round.
    for (const bool scope_first : {true, false}) {
        INFO("scope ends first: " << scope_first);
        released = 0;
        std::shared_ptr<requests::PendingRequest> waiting;
        {
            pipeline::RequestScope scope(w.parts(), 0, w.written_status);
            waiting = scope.pending();
            REQUIRE(waiting->attach_state(&w) == CPPW_OK);
            scope.start(std::nullopt, 1, true);
            scope.hand_to_plugin();
            if (!scope_first) {
                waiting->cancel();
                CHECK_FALSE(waiting->begin_handle());
                CHECK(w.registry.find(waiting->id()) == waiting);  // the scope's to let go
            }
        }
        CHECK_FALSE(waiting->begin_handle());
        CHECK(waiting->take_state() == nullptr);
        CHECK(released == 1);
        CHECK(w.registry.size() == 0);
    }
    CHECK(w.ledger.totals().cancelled == 2);
}

TEST_CASE("request scope: the worker's own requests reach neither the ledger nor the metrics", "[unit][pipeline]") {
    Worker w;
    std::shared_ptr<requests::PendingRequest> pending;
    {
        pipeline::RequestScope scope({w.registry, nullptr, nullptr}, 0, w.written_status);
        pending = scope.pending();
        scope.start(RequestIdentity{3, 3}, 5, true);
        REQUIRE(w.gate.enter(pending->id(), [] {}));
        scope.hold(w.gate);
    }
    // Left unfinished: cancelled and its slot freed, as any request, but counted nowhere.
    CHECK(pending->cancelled());
    CHECK(w.gate.running() == 0);
    CHECK(w.registry.size() == 0);
    CHECK(w.ledger.totals().started == 0);
    CHECK(w.ledger.totals().cancelled == 0);
    CHECK_THAT(w.metrics.format(), !Catch::Contains("code="));
}
