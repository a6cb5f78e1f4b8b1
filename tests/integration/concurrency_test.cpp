#include "http_client.hpp"
#include "worker_process.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <thread>
#include <vector>

using namespace cppworker::test;

namespace {

// `clients` connections at once, each sending `per_client` increments of 1 over keep-alive.
int hammer(uint16_t port, int clients, int per_client) {
    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < clients; ++i) {
        threads.emplace_back([&] {
            HttpConnection c(port);
            for (int j = 0; j < per_client; ++j) {
                if (c.request("POST", "/increment", R"({"payload": {"amount": 1}})").status == 200) ++ok;
            }
        });
    }
    for (auto& t : threads) t.join();
    return ok.load();
}

}  // namespace

TEST_CASE("concurrent clients lose no increment", "[integration][concurrency]") {
    for (const char* plugin : {HELLO_WORLD_PLUGIN, HELLO_C_PLUGIN}) {
        WorkerProcess w(artifact(plugin));
        CHECK(hammer(w.port(), 32, 25) == 800);
        const auto body = http(w.port(), "GET", "/value").body;
        CHECK((body == R"({"value":800})" || body == R"({"value": 800})"));
    }
}

TEST_CASE("blocking routes run side by side on the pool", "[integration][concurrency]") {
    // Each request waits until all four are inside the plugin at once; run one after another,
    // they would time out.
    WorkerProcess w(artifact(TESTKIT_PLUGIN), {"--blocking-threads", "4"});
    std::vector<std::thread> threads;
    std::atomic<int> met{0};
    for (int i = 0; i < 4; ++i) {
        threads.emplace_back([&] {
            auto r = http(w.port(), "POST", "/rendezvous", R"({"payload": {"parties": 4, "timeout_ms": 10000}})");
            if (r.status == 200 && r.body == R"({"met":4})") ++met;
        });
    }
    for (auto& t : threads) t.join();
    CHECK(met == 4);
    // The I/O threads stayed free meanwhile.
    CHECK(http(w.port(), "GET", "/ping").body == "pong");
}
