// A worker of known throughput, for the local engine's tests: /work runs one request at a time
// (FIFO) and takes `ms` each (100 by default), so a worker serves 10 requests of workload 1 a
// second, which its benchmark finds. Load above that has to be spread over more workers.
#include <cppworker/plugin.hpp>

#include <boost/json.hpp>

#include <chrono>
#include <string>
#include <thread>

using cppworker::Reply, cppworker::Request;

class Paced : public cppworker::Plugin {
public:
    enum Route : uint32_t { work };
    static constexpr cppw_route routes[] = {
        cppworker::route(CPPW_METHOD_POST, "/work", {.concurrency = CPPW_CONCURRENCY_FIFO, .blocking = true}),
    };
    static constexpr cppw_readiness readiness = cppworker::make_readiness(work, nullptr, nullptr, nullptr, nullptr, 2, 1);
    using Plugin::Plugin;

    double workload(const Request&) override { return 1.0; }

    void handle(const Request& r, Reply reply) override {
        const auto payload = boost::json::parse(r.payload.empty() ? std::string_view("{}") : r.payload);
        const auto* given = payload.as_object().if_contains("ms");
        const int64_t ms = given != nullptr && given->is_int64() ? given->as_int64() : 100;
        std::this_thread::sleep_for(std::chrono::milliseconds(ms));
        reply.json(200, "{\"worked_ms\": " + std::to_string(ms) + "}");
    }

    bool benchmark_payload(uint32_t, cppworker::PayloadSink& sink) override {
        sink.json(R"({"ms": 100})");
        return true;
    }
};

CPPWORKER_PLUGIN(Paced, "paced", "1.0.0")
