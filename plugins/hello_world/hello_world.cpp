// The seed's hello world: an in-process counter, plus an echo route whose workload is the prompt's
// length, for benchmarks that need no model server.
#include <cppworker/plugin.hpp>

#include <boost/json.hpp>

#include <atomic>
#include <stdexcept>

namespace json = boost::json;
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
    using Plugin::Plugin;

    // Sizing runs before handle, and its exceptions become 422: so it also validates. The field it
    // read is kept for handle, which then parses nothing.
    double workload(const Request& r) override {
        if (r.route_index == value) return 1.0;
        const auto& v = r.route_index == increment ? field(r, "amount") : field(r, "prompt");
        r.keep(v);
        return r.route_index == increment ? 1.0 : static_cast<double>(v.as_string().size());
    }

    void handle(const Request& r, Reply reply) override {
        if (r.route_index == value) return answer(std::move(reply), counter_.load());
        // A host older than ABI 1.3 carries nothing from workload: read the field again.
        const json::value v = r.kept<json::value>() ? std::move(*r.kept<json::value>())
                                                    : field(r, r.route_index == increment ? "amount" : "prompt");
        if (r.route_index == increment) return answer(std::move(reply), counter_ += v.as_int64());
        reply.json(200, json::serialize(json::object{{"generated_text", v}}));
    }

    void metrics(cppworker::Metrics& m) override { m.gauge("counter_value", "current value of the counter", counter_); }

    // Prompts of 20 to 80 words, different for each request, like PyWorker's random-word benchmarks.
    bool benchmark_payload(uint32_t index, cppworker::PayloadSink& sink) override {
        static constexpr const char* words[] = {"model", "worker", "token", "tensor", "prompt", "batch", "cache", "queue"};
        std::string prompt;
        for (uint32_t i = 0; i < 20 + (index * 7919) % 61; ++i) prompt += std::string(i ? " " : "") + words[(index + i * 31) % 8];
        sink.json(json::serialize(json::object{{"prompt", prompt}}));
        return true;
    }

private:
    static json::value field(const Request& r, const char* name) {
        const json::value payload = json::parse(r.payload);
        const auto* v = payload.as_object().if_contains(name);
        if (v == nullptr || !(r.route_index == increment ? v->is_int64() : v->is_string())) {
            throw std::invalid_argument(std::string("payload needs \"") + name +
                                        (r.route_index == increment ? "\" as an integer" : "\" as a string"));
        }
        return *v;
    }
    static void answer(Reply reply, long long v) { reply.json(200, json::serialize(json::object{{"value", v}})); }

    std::atomic<long long> counter_{0};
};

CPPWORKER_PLUGIN(HelloWorld, "hello_world", "1.0.0")
