// Requests signed the way Vast's autoscaler signs them pass; everything else gets what PyWorker
// answers (core/protocol.md §4.2, §6).
#include "http_client.hpp"
#include "signer.hpp"
#include "worker_process.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

using namespace cppworker::test;
using namespace std::chrono_literals;

namespace {

// A worker that checks signatures with the test key, given as a file.
struct SecuredWorker {
    std::filesystem::path key_file = std::filesystem::temp_directory_path() /
                                     ("cppworker-key-" + std::to_string(::getpid()) + ".pem");
    WorkerProcess worker;

    explicit SecuredWorker(std::vector<std::string> extra = {})
        : worker(artifact(HELLO_WORLD_PLUGIN), with_key(std::move(extra))) {}
    ~SecuredWorker() { std::filesystem::remove(key_file); }

    std::vector<std::string> with_key(std::vector<std::string> extra) {
        std::ofstream(key_file) << signer().public_pem();
        extra.insert(extra.end(), {"--pubkey-file", key_file.string()});
        return extra;
    }
    HttpResponse increment(const std::string& auth_data) {
        return http(worker.port(), "POST", "/increment",
                    R"({"auth_data": )" + auth_data + R"(, "payload": {"amount": 1}})");
    }
};

const std::string url = "http://127.0.0.1:40123";

}  // namespace

TEST_CASE("a Gen 3 1.1.0 signature over the url is accepted", "[integration][auth]") {
    SecuredWorker w;
    auto r = w.increment(signed_auth(signer(), url, 1, 11));
    CHECK(r.status == 200);
    CHECK(r.body == R"({"value":1})");
}

TEST_CASE("a 1.0.0 all-fields signature is accepted, and any changed field refuses it", "[integration][auth]") {
    SecuredWorker w;
    CHECK(w.increment(signed_auth(signer(), url, 1, 11, true)).status == 200);

    auto changed_url = signed_auth(signer(), url, 2, 12, true);
    changed_url.replace(changed_url.find(url), url.size(), "http://127.0.0.1:40124");
    CHECK(w.increment(changed_url).status == 401);

    auto changed_cost = signed_auth(signer(), url, 3, 13, true);
    changed_cost.replace(changed_cost.find("100.0"), 5, "1.0");
    CHECK(w.increment(changed_cost).status == 401);
    CHECK(metric(w.worker.port(), "cppworker_requests_total{outcome=\"rejected\"}") == 2);
    CHECK(metric(w.worker.port(), "cppworker_workload_total{outcome=\"rejected\"}") == 2);
}

TEST_CASE("tampered, missing and non-base64 signatures get 401 with an empty body", "[integration][auth]") {
    SecuredWorker w;
    auto good = signed_auth(signer(), url, 1, 11);
    const auto sig_at = good.find("\"signature\": \"") + 14;

    auto tampered = good;
    tampered[sig_at + 10] = tampered[sig_at + 10] == 'A' ? 'B' : 'A';
    auto r = w.increment(tampered);
    CHECK(r.status == 401);
    CHECK(r.body.empty());

    auto not_base64 = good;
    not_base64.replace(sig_at, 4, "!!!!");  // dropped by Python's decoder, leaving a short signature
    CHECK(w.increment(not_base64).status == 401);

    auto bad_padding = good;
    bad_padding.insert(sig_at, "A");
    CHECK(w.increment(bad_padding).status == 401);

    // Python's decoder ignores characters outside the alphabet, so these still verify.
    auto with_noise = good;
    with_noise.insert(sig_at + 8, "\\n");
    CHECK(w.increment(with_noise).status == 200);
}

TEST_CASE("a non-ASCII url is signed over its u-escapes, as Python writes it", "[integration][auth]") {
    SecuredWorker w;
    const std::string message = "{\n    \"url\": \"http://caf\\u00e9.example:1\"\n}";
    const std::string auth = R"({"cost": 1, "endpoint": "e", "reqnum": 1, "request_idx": 1, "signature": ")" +
                             signer().sign(message) + R"(", "url": "http://café.example:1"})";
    CHECK(w.increment(auth).status == 200);
}

TEST_CASE("the all-fields scheme refuses replays and reqnums far behind", "[integration][auth]") {
    SecuredWorker w({"--auth-scheme", "fields"});
    const auto first = signed_auth(signer(), url, 500, 1, true);
    CHECK(w.increment(first).status == 200);
    CHECK(w.increment(first).status == 401);                                      // the same message again
    CHECK(w.increment(signed_auth(signer(), url, 450, 2, true)).status == 200);   // behind, but within 100
    CHECK(w.increment(signed_auth(signer(), url, 399, 3, true)).status == 401);   // more than 100 behind
    CHECK(w.increment(signed_auth(signer(), url, 501, 4)).status == 401);         // url-only not allowed here
}

TEST_CASE("the url scheme refuses all-fields signatures and accepts url-only ones", "[integration][auth]") {
    SecuredWorker w({"--auth-scheme", "url"});
    const auto all_fields = w.increment(signed_auth(signer(), url, 1, 11, true));
    CHECK(all_fields.status == 401);
    CHECK(all_fields.body.empty());
    CHECK(w.increment(signed_auth(signer(), url, 2, 12)).status == 200);
    // Still refused with a reqnum never seen: not the replay window, the scheme itself.
    CHECK(w.increment(signed_auth(signer(), url, 3, 13, true)).status == 401);
    CHECK(w.increment(signed_auth(signer(), url, 4, 14)).body == R"({"value":2})");
    CHECK(wait_metric(w.worker.port(), "cppworker_requests_total{outcome=\"rejected\"}", 2));
}

TEST_CASE("auth_data must name every field PyWorker requires", "[integration][auth]") {
    SecuredWorker w;
    auto r = http(w.worker.port(), "POST", "/increment",
                  R"({"auth_data": {"url": "u", "cost": 1}, "payload": {"amount": 1}})");
    CHECK(r.status == 422);
    CHECK(r.body == R"({"auth_data": {"endpoint": "missing parameter", "reqnum": "missing parameter", )"
                    R"("request_idx": "missing parameter", "signature": "missing parameter"}})");
    CHECK(http(w.worker.port(), "POST", "/increment", R"({"amount": 1})").status == 422);
}

TEST_CASE("UNSECURED takes a bare payload and checks nothing", "[integration][auth]") {
    WorkerProcess w(artifact(HELLO_WORLD_PLUGIN), {}, {{"UNSECURED", "true"}});
    CHECK(http(w.port(), "POST", "/increment", R"({"amount": 4})").body == R"({"value":4})");
    CHECK(http(w.port(), "POST", "/increment", R"({"auth_data": {"signature": "x"}, "payload": {"amount": 1}})")
              .body == R"({"value":5})");
    CHECK(w.log().find("UNSECURED") != std::string::npos);
}

TEST_CASE("a bad UNSECURED value stops the worker at start", "[integration][auth]") {
    auto [code, log] = WorkerProcess::run_to_exit(artifact(HELLO_WORLD_PLUGIN), {"--unsecured", "maybe"});
    CHECK(code == 2);
    CHECK_THAT(log, Catch::Contains("maybe"));
}

TEST_CASE("a session is opened only with a valid signature: a forged one gets 401 and opens nothing",
          "[integration][auth][sessions]") {
    SecuredWorker w;
    const auto port = w.worker.port();
    const auto create = [&](const std::string& auth_data) {
        return http(port, "POST", "/session/create",
                    R"({"auth_data": )" + auth_data + R"(, "session_id": null, "payload": {"lifetime": 60}})");
    };
    auto forged = signed_auth(signer(), url, 1, 11);
    const auto sig_at = forged.find("\"signature\": \"") + 14;
    forged[sig_at + 10] = forged[sig_at + 10] == 'A' ? 'B' : 'A';
    auto refused = create(forged);
    CHECK(refused.status == 401);
    CHECK(refused.body.empty());
    CHECK(metric(port, "cppworker_sessions_open") == 0);
    CHECK(metric(port, "cppworker_requests_working") == 0);
    CHECK(metric(port, "cppworker_requests_total{outcome=\"rejected\"}") == 1);

    // The same field checks as a routed request: 422 naming what is missing.
    auto incomplete = create(R"({"url": "u", "cost": 1})");
    CHECK(incomplete.status == 422);
    CHECK_THAT(incomplete.body, Catch::Contains(R"("signature": "missing parameter")"));
    CHECK(metric(port, "cppworker_sessions_open") == 0);

    auto created = create(signed_auth(signer(), url, 2, 12));
    CHECK(created.status == 201);
    CHECK(metric(port, "cppworker_sessions_open") == 1);
    CHECK(metric(port, "cppworker_requests_working") == 1);
}
