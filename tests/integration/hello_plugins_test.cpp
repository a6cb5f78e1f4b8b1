#include "http_client.hpp"
#include "worker_process.hpp"

#include <catch2/catch.hpp>

#include <filesystem>

using namespace cppworker::test;

TEST_CASE("hello_world counts and echoes", "[integration][hello]") {
    WorkerProcess w(artifact(HELLO_WORLD_PLUGIN));
    CHECK(w.log().find("no REPORT_ADDR configured: running standalone") != std::string::npos);

    auto inc = http(w.port(), "POST", "/increment", R"({"payload": {"amount": 2}})");
    CHECK(inc.status == 200);
    CHECK(inc.body == R"({"value":2})");
    CHECK(http(w.port(), "POST", "/increment", R"({"auth_data": null, "session_id": null, "payload": {"amount": 40}})")
              .body == R"({"value":42})");

    auto value = http(w.port(), "GET", "/value");
    CHECK(value.status == 200);
    CHECK(value.header("content-type") == "application/json");
    CHECK(value.body == R"({"value":42})");

    auto gen = http(w.port(), "POST", "/generate", R"({"payload": {"prompt": "hello there"}})");
    CHECK(gen.status == 200);
    CHECK(gen.body == R"({"generated_text":"hello there"})");
}

TEST_CASE("hello_world answers a malformed payload with 422", "[integration][hello]") {
    WorkerProcess w(artifact(HELLO_WORLD_PLUGIN));
    auto r = http(w.port(), "POST", "/increment", R"({"payload": {"amount": "two"}})");
    CHECK(r.status == 422);
    CHECK_THAT(r.body, Catch::Contains("amount"));
    CHECK(http(w.port(), "GET", "/value").body == R"({"value":0})");
}

TEST_CASE("hello_c, written in plain C, serves the same counter", "[integration][hello]") {
    WorkerProcess w(artifact(HELLO_C_PLUGIN));
    CHECK(w.log().find("[hello_c] hello_c ready") != std::string::npos);
    CHECK(http(w.port(), "POST", "/increment", R"({"payload": {"amount": 5}})").body == R"({"value": 5})");
    CHECK(http(w.port(), "POST", "/increment", R"({"payload": {"amount": -2}})").body == R"({"value": 3})");
    CHECK(http(w.port(), "GET", "/value").body == R"({"value": 3})");
}

TEST_CASE("hello_c refuses a payload without an integer amount with 422, before it is admitted",
          "[integration][hello]") {
    WorkerProcess w(artifact(HELLO_C_PLUGIN));
    for (const char* body : {R"({"payload": {"count": 1}})", R"({"payload": {"amount": "two"}})",
                             R"({"payload": {"amount": 1.5}})", R"({"payload": {"amount": null}})"}) {
        INFO(body);
        const auto bad = http(w.port(), "POST", "/increment", body);
        CHECK(bad.status == 422);
        CHECK_THAT(bad.body, Catch::Contains(R"(payload needs \"amount\" as an integer)"));
    }
    CHECK(http(w.port(), "GET", "/value").body == R"({"value": 0})");
}

TEST_CASE("hello_c takes a payload of any size", "[integration][hello]") {
    WorkerProcess w(artifact(HELLO_C_PLUGIN));
    // The amount comes after 3 kB of other fields (the old plugin read at most 255 bytes).
    const std::string padding(3000, 'x');
    const auto r = http(w.port(), "POST", "/increment",
                        R"({"payload": {"note": ")" + padding + R"(", "amount": 7}})");
    CHECK(r.status == 200);
    CHECK(r.body == R"({"value": 7})");
}

TEST_CASE("a plugin built against ABI 1.2 loads and serves on a 1.4 host", "[integration][abi]") {
    WorkerProcess w(artifact(ZOO_ABI_1_2_PLUGIN));
    CHECK(w.log().find("plugin zoo_abi_1_2 1.2.0") != std::string::npos);
    const auto r = http(w.port(), "POST", "/run", R"({"payload": {}})");
    CHECK(r.status == 200);
    CHECK(r.body == R"({"host_abi": "1.4"})");
}

TEST_CASE("a plugin built against ABI 1.3 loads and serves on a 1.4 host, its 1.3 services included",
          "[integration][abi]") {
    WorkerProcess w(artifact(ZOO_ABI_1_3_PLUGIN));
    CHECK(w.log().find("plugin zoo_abi_1_3 1.3.0 (ABI 1.3)") != std::string::npos);
    const auto r = http(w.port(), "POST", "/run", R"({"payload": {"say": "still here"}})");
    CHECK(r.status == 200);
    CHECK(r.body == R"({"host_abi": "1.4", "said": "still here"})");
    CHECK(http(w.port(), "POST", "/run", R"({"payload": {"say": 1}})").status == 422);
}

TEST_CASE("BACKEND picks the plugin by name from the plugin directory", "[integration][config]") {
    const auto dir = std::filesystem::path(artifact(HELLO_C_PLUGIN)).parent_path().string();
    WorkerProcess w("", {}, {{"BACKEND", "hello_c"}, {"CPPWORKER_PLUGIN_DIR", dir}});
    CHECK(w.log().find("plugin hello_c 1.1.0") != std::string::npos);
    CHECK(http(w.port(), "GET", "/value").body == R"({"value": 0})");
}

TEST_CASE("the plugin reads --plugin-option values and then the environment", "[integration][config]") {
    WorkerProcess from_option(artifact(TESTKIT_PLUGIN), {"--plugin-option", "TESTKIT_GREETING=hi"},
                               {{"TESTKIT_GREETING", "from env"}});
    CHECK(from_option.log().find("greeting=hi") != std::string::npos);

    WorkerProcess from_env(artifact(TESTKIT_PLUGIN), {}, {{"TESTKIT_GREETING", "from env"}});
    CHECK(from_env.log().find("greeting=from env") != std::string::npos);
}
