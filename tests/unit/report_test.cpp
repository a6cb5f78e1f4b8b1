#include "autoscaler/report.hpp"

#include <catch2/catch.hpp>

#include <stdexcept>

using namespace cppworker::autoscaler;
using cppworker::accounting::DeleteEntry;
using cppworker::accounting::LedgerSnapshot;

// Every expected body below is what /usr/bin/python3's json.dumps printed for the same dict.

namespace {

WorkerIdentity identity(int64_t id, std::string mtoken, std::string url) {
    return WorkerIdentity{id, std::move(mtoken), "1.1.0", std::move(url)};
}

}  // namespace

TEST_CASE("report: worker_url is PyWorker's get_url()", "[unit][report]") {
    CHECK(worker_url(true, "1.2.3.4", "40123") == "https://1.2.3.4:40123");
    CHECK(worker_url(false, "10.0.0.1", "3000") == "http://10.0.0.1:3000");
}

TEST_CASE("report: an idle worker's status is the example of §2.1 with float counters", "[unit][report]") {
    const StatusInput idle{};
    CHECK(worker_status_body(identity(123, "tok", "https://1.2.3.4:40123"), idle) ==
          R"({"id": 123, "mtoken": "tok", "version": "1.1.0", "loadtime": 0.0, "cur_load": 0.0, "rej_load": 0.0, "new_load": 0.0, "error_msg": "", "max_perf": 0.0, "cur_perf": 0.0, "cur_capacity": 0, "max_capacity": 0, "num_requests_working": 0, "num_requests_recieved": 0, "additional_disk_usage": 0.0, "working_request_idxs": [], "url": "https://1.2.3.4:40123"})");
}

TEST_CASE("report: a busy worker's status maps the ledger onto the fields of §2.1", "[unit][report]") {
    LedgerSnapshot ledger;
    ledger.received = 100.0;
    ledger.cancelled = 0.1;
    ledger.served = 0.1 + 0.2;
    ledger.errored = 55;  // tracked, never reported
    ledger.rejected = 3.75;
    ledger.in_flight = 12.5;
    ledger.num_working = 2;
    ledger.num_received_ever = 17;
    ledger.working_request_idxs = {42, 7};
    const StatusInput busy{83.25, "", 242.123456789, 1e-07, ledger};
    CHECK(worker_status_body(identity(4567890123, "tok", "http://10.0.0.1:3000"), busy) ==
          R"({"id": 4567890123, "mtoken": "tok", "version": "1.1.0", "loadtime": 83.25, "cur_load": 12.5, "rej_load": 3.75, "new_load": 99.9, "error_msg": "", "max_perf": 242.123456789, "cur_perf": 0.30000000000000004, "cur_capacity": 0, "max_capacity": 0, "num_requests_working": 2, "num_requests_recieved": 17, "additional_disk_usage": 1e-07, "working_request_idxs": [42, 7], "url": "http://10.0.0.1:3000"})");
}

TEST_CASE("report: strings in the status are escaped as json.dumps escapes them", "[unit][report]") {
    StatusInput status;
    status.loadtime = 1e16;
    status.additional_disk_usage = -0.5;
    status.error_msg = "Worker Server failed to launch: \"bad\"\tport\n\u00fc\u20ac\U0001F600\x7f";
    CHECK(worker_status_body(identity(1, "t\"o\\k\u00e9", "https://1.2.3.4:40123"), status) ==
          R"({"id": 1, "mtoken": "t\"o\\k\u00e9", "version": "1.1.0", "loadtime": 1e+16, "cur_load": 0.0, "rej_load": 0.0, "new_load": 0.0, "error_msg": "Worker Server failed to launch: \"bad\"\tport\n\u00fc\u20ac\ud83d\ude00\u007f", "max_perf": 0.0, "cur_perf": 0.0, "cur_capacity": 0, "max_capacity": 0, "num_requests_working": 0, "num_requests_recieved": 0, "additional_disk_usage": -0.5, "working_request_idxs": [], "url": "https://1.2.3.4:40123"})");
}

TEST_CASE("report: the version field follows the identity", "[unit][report]") {
    WorkerIdentity worker = identity(5, "", "http://h:1");
    worker.version = "1.0.0";
    CHECK(worker_status_body(worker, StatusInput{}).find(R"("version": "1.0.0", )") != std::string::npos);
}

TEST_CASE("report: new_load never goes below zero", "[unit][report]") {
    // Cancellations of requests received in an earlier interval can outweigh this interval's.
    StatusInput status;
    status.ledger.received = 2;
    status.ledger.cancelled = 5;
    const auto body = worker_status_body(identity(1, "", "http://h:1"), status);
    CHECK(body.find(R"("new_load": 0.0, )") != std::string::npos);
}

TEST_CASE("report: invalid UTF-8 in a string is refused, not sent", "[unit][report]") {
    StatusInput status;
    status.error_msg = "\xff";
    CHECK_THROWS_AS(worker_status_body(identity(1, "", "http://h:1"), status), std::invalid_argument);
}

TEST_CASE("report: delete_requests bodies", "[unit][report]") {
    CHECK(delete_requests_body(1, "tok", {1, 2}, true) ==
          R"({"worker_id": 1, "mtoken": "tok", "request_idxs": [1, 2], "success": true})");
    CHECK(delete_requests_body(99, "", {-3}, false) ==
          R"({"worker_id": 99, "mtoken": "", "request_idxs": [-3], "success": false})");
}

TEST_CASE("report: split_deletes separates outcomes and keeps their order", "[unit][report]") {
    const std::vector<DeleteEntry> entries{{5, true}, {3, false}, {9, true}, {1, false}, {2, true}};
    const auto [succeeded, failed] = split_deletes(entries);
    CHECK(succeeded == std::vector<int64_t>{5, 9, 2});
    CHECK(failed == std::vector<int64_t>{3, 1});

    const auto [none_ok, none_failed] = split_deletes({});
    CHECK(none_ok.empty());
    CHECK(none_failed.empty());
}

TEST_CASE("report: the start-up error beacon has the five fields of §2.1.4", "[unit][report]") {
    CHECK(startup_error_body(0, "tok", "0", "HF_TOKEN must be set \"now\" \u00e9", "") ==
          R"({"id": 0, "mtoken": "tok", "version": "0", "error_msg": "HF_TOKEN must be set \"now\" \u00e9", "url": ""})");
}

TEST_CASE("report: REPORT_ADDR splits into trimmed, non-empty addresses in order", "[unit][report]") {
    using list = std::vector<std::string>;
    CHECK(split_report_addrs("https://run.vast.ai") == list{"https://run.vast.ai"});
    CHECK(split_report_addrs("https://a.example/,https://b.example") == list{"https://a.example", "https://b.example"});
    CHECK(split_report_addrs(" https://a.example// , https://b.example/ ") ==
          list{"https://a.example", "https://b.example"});
    CHECK(split_report_addrs("https://a.example,,  ,/,") == list{"https://a.example"});
    CHECK(split_report_addrs("").empty());
    CHECK(split_report_addrs("https://b.example/api/v0,https://a.example") ==
          list{"https://b.example/api/v0", "https://a.example"});
}

TEST_CASE("report: only the cloud.vast.ai API address is skipped for deletes", "[unit][report]") {
    CHECK(skip_for_deletes("https://cloud.vast.ai/api/v0"));
    CHECK(skip_for_deletes("https://cloud.vast.ai/api/v0/"));
    CHECK_FALSE(skip_for_deletes("https://run.vast.ai"));
    CHECK_FALSE(skip_for_deletes("https://cloud.vast.ai/api/v0/x"));
    CHECK_FALSE(skip_for_deletes("http://cloud.vast.ai/api/v0"));
    CHECK_FALSE(skip_for_deletes("https://cloud.vast.ai/api"));
    CHECK_FALSE(skip_for_deletes(""));
}

TEST_CASE("report: a crash of the worker before shows in error_msg until loaded and reported once",
          "[unit][report]") {
    const std::string crash = "worker process killed by signal 11 (SIGSEGV)";
    CHECK(status_error_msg("", false, "", false) == "");
    CHECK(status_error_msg("", false, crash, false) == crash);
    CHECK(status_error_msg("", false, crash, true) == crash);   // still loading: still said
    CHECK(status_error_msg("", true, crash, false) == crash);   // loaded, but never told yet
    CHECK(status_error_msg("", true, crash, true) == "");       // loaded and told: serving again
    CHECK(status_error_msg("Healthcheck failed with status: 500", false, crash, false) ==
          "Healthcheck failed with status: 500");  // the worker's own error comes first
}
