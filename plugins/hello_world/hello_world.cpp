// The seed's hello world: an in-process counter, plus an echo route whose workload is the prompt's
// length, for benchmarks that need no model server. It reads its payload through the host's
// json_get (Request::json), so it builds with the SDK alone: no JSON library.
#include <cppworker/plugin.hpp>

#include <atomic>
#include <cstdint>
#include <stdexcept>
#include <string>

using cppworker::Reply, cppworker::Request;

class HelloWorld : public cppworker::Plugin {
public:
    enum Route : uint32_t { increment, value, generate };
    static constexpr cppw_route routes[] = {
        cppworker::route(CPPW_METHOD_POST, "/increment"),
        cppworker::route(CPPW_METHOD_GET, "/value"),
        cppworker::route(CPPW_METHOD_POST, "/generate"),
    };
    // No model server: ready as soon as loaded, benchmarked on /generate.
    static constexpr cppw_readiness readiness = cppworker::make_readiness(generate);

    explicit HelloWorld(cppworker::Host host) : Plugin(host) {
        if (!CPPW_HAS_SERVICE(host.services(), json_get)) {
            throw std::runtime_error("hello_world needs a worker with ABI 1.3 (json_get)");
        }
    }

    // Sizing runs before handle, and its exceptions become 422: so it also validates. What it read
    // is kept for handle, which then reads nothing. The prompt's workload is its length in bytes.
    double workload(const Request& r) override {
        switch (r.route_index) {
        case increment: r.keep(r.json("/amount").as_int()); return 1.0;
        case generate: {
            std::string prompt = r.json("/prompt").as_string();
            const auto bytes = static_cast<double>(prompt.size());
            r.keep(std::move(prompt));
            return bytes;
        }
        default: return 1.0;
        }
    }

    void handle(const Request& r, Reply reply) override {
        switch (r.route_index) {
        case increment: {
            const auto* amount = r.kept<int64_t>();
            return answer(std::move(reply), counter_ += amount ? *amount : r.json("/amount").as_int());
        }
        case generate: {
            const auto* prompt = r.kept<std::string>();
            reply.json(200, "{\"generated_text\":" + cppworker::json_quote(prompt ? *prompt : r.json("/prompt").as_string()) +
                                "}");
            return;
        }
        default: return answer(std::move(reply), counter_.load());
        }
    }

    void metrics(cppworker::Metrics& m) override {
        m.gauge("counter_value", "current value of the counter", static_cast<double>(counter_.load()));
    }

    // Prompts of 20 to 80 words, different for each request, like PyWorker's random-word benchmarks.
    bool benchmark_payload(uint32_t index, cppworker::PayloadSink& sink) override {
        static constexpr const char* words[] = {"model", "worker", "token", "tensor", "prompt", "batch", "cache", "queue"};
        std::string prompt;
        for (uint32_t i = 0; i < 20 + (index * 7919) % 61; ++i) prompt += std::string(i ? " " : "") + words[(index + i * 31) % 8];
        sink.json("{\"prompt\":" + cppworker::json_quote(prompt) + "}");
        return true;
    }

private:
    static void answer(Reply reply, long long v) { reply.json(200, "{\"value\":" + std::to_string(v) + "}"); }

    std::atomic<long long> counter_{0};
};

CPPWORKER_PLUGIN(HelloWorld, "hello_world", "1.1.0")
