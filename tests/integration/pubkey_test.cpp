// Without --pubkey-file the worker fetches the autoscaler's key from REPORT_ADDR's /pubkey/ at
// start (core/protocol.md §2.3, §6): from the first address only, retried after failures, and every
// signed request is refused until the key is there.
#include "fake_http_server.hpp"
#include "http_client.hpp"
#include "signer.hpp"
#include "worker_process.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <condition_variable>
#include <mutex>

using namespace cppworker::test;
using namespace std::chrono_literals;

namespace {

const std::string url = "http://127.0.0.1:40123";

std::string signed_increment(long reqnum) {
    return R"({"auth_data": )" + signed_auth(signer(), url, reqnum, reqnum) + R"(, "payload": {"amount": 1}})";
}

std::size_t pubkey_requests(const FakeHttpServer& server) {
    const auto all = server.received();
    return static_cast<std::size_t>(
        std::count_if(all.begin(), all.end(), [](const ReceivedRequest& r) { return r.target == "/pubkey/"; }));
}

// An autoscaler whose /pubkey/ fails a given number of times, then holds its answer back until
// the test releases it. It answers everything else (status reports) at once.
class KeyServer {
public:
    explicit KeyServer(int failures)
        : failures_(failures), server_([this](const ReceivedRequest& r) { return answer(r); }) {}
    ~KeyServer() { release(); }  // a held answer must not keep the server's thread from stopping

    std::string url() const { return server_.url(); }
    const FakeHttpServer& server() const { return server_; }

    // Waits until the fetch that gets the key is being held.
    bool wait_held(std::chrono::milliseconds timeout) {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, timeout, [&] { return held_; });
    }
    void release() {
        std::lock_guard lock(mutex_);
        released_ = true;
        changed_.notify_all();
    }
    int asked() const {
        std::lock_guard lock(mutex_);
        return asked_;
    }

private:
    CannedAnswer answer(const ReceivedRequest& r) {
        if (r.target != "/pubkey/") return CannedAnswer{200, "{}"};
        std::unique_lock lock(mutex_);
        if (++asked_ <= failures_) return CannedAnswer{503, "not yet"};
        held_ = true;
        changed_.notify_all();
        changed_.wait(lock, [&] { return released_; });
        return CannedAnswer{200, signer().public_pem(), "text/plain"};
    }

    const int failures_;
    mutable std::mutex mutex_;
    std::condition_variable changed_;
    int asked_ = 0;
    bool held_ = false;
    bool released_ = false;
    FakeHttpServer server_;  // last: destroyed first, while the state its thread uses is still there
};

std::map<std::string, std::string> autoscaler_env(const std::string& report_addr) {
    return {{"REPORT_ADDR", report_addr}, {"CONTAINER_ID", "7"}, {"PUBLIC_IPADDR", "127.0.0.1"}};
}

}  // namespace

TEST_CASE("pubkey: signed requests get 401 until the key has arrived and pass after", "[integration][auth][pubkey]") {
    KeyServer autoscaler(0);
    WorkerProcess w(artifact(HELLO_WORLD_PLUGIN), {"--external-port", "40123"}, autoscaler_env(autoscaler.url()));
    REQUIRE(autoscaler.wait_held(10s));

    // The key is on its way but not there: a correctly signed request is still refused.
    auto refused = http(w.port(), "POST", "/increment", signed_increment(1));
    CHECK(refused.status == 401);
    CHECK(refused.body.empty());
    CHECK(w.log().find("public key loaded from") == std::string::npos);

    autoscaler.release();
    REQUIRE(w.wait_for_log("public key loaded from " + autoscaler.url() + "/pubkey/", 10s));
    auto accepted = http(w.port(), "POST", "/increment", signed_increment(2));
    CHECK(accepted.status == 200);
    CHECK(accepted.body == R"({"value":1})");
    CHECK(wait_metric(w.port(), "cppworker_requests_total{outcome=\"rejected\"}", 1));
    CHECK(autoscaler.asked() == 1);
}

TEST_CASE("pubkey: the key is fetched from the first REPORT_ADDR only and retried after failures",
          "[integration][auth][pubkey]") {
    // Two failures: the third try, two pauses later (1 s, then 2 s), gets the key.
    KeyServer first(2);
    FakeHttpServer second([](const ReceivedRequest& r) {
        if (r.target == "/pubkey/") return CannedAnswer{200, signer().public_pem(), "text/plain"};
        return CannedAnswer{200, "{}"};
    });
    WorkerProcess w(artifact(HELLO_WORLD_PLUGIN), {"--external-port", "40123"},
                    autoscaler_env(first.url() + "," + second.url()));
    REQUIRE(first.wait_held(20s));
    CHECK(first.asked() == 3);
    CHECK(http(w.port(), "POST", "/increment", signed_increment(1)).status == 401);
    first.release();

    REQUIRE(w.wait_for_log("public key loaded from " + first.url() + "/pubkey/", 10s));
    CHECK(http(w.port(), "POST", "/increment", signed_increment(2)).status == 200);
    const auto log = w.log();
    CHECK_THAT(log, Catch::Contains("public key fetch 1/5 from " + first.url() + "/pubkey/ failed: status 503"));
    CHECK_THAT(log, Catch::Contains("public key fetch 2/5 from " + first.url() + "/pubkey/ failed: status 503"));
    CHECK(log.find("public key fetch 3/5") == std::string::npos);
    CHECK(first.asked() == 3);
    CHECK(pubkey_requests(first.server()) == 3);
    CHECK(pubkey_requests(second) == 0);
}
