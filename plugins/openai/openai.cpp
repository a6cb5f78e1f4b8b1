// Any OpenAI-compatible server (vLLM, SGLang, llama.cpp's server, Ollama, TGI's messages API):
// /v1/completions and /v1/chat/completions relayed as they are, streamed or not, with the served
// model's name added to requests that name none. Worker routes equal the server's paths.
#include "openai_logic.hpp"

#include "../common/config_value.hpp"
#include "../common/counting_relay.hpp"
#include "../common/refused_forward.hpp"

#include <cppworker/plugin.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

using cppworker::Reply, cppworker::Request;
using openai_plugin::Api;

namespace {

// The model name requests without one get: OPENAI_MODEL, or else the first id of GET /v1/models,
// asked when the first such request comes (older vLLM versions, Ollama and TGI's messages API refuse
// a request without "model"; the others ignore what they get).
class ModelName {
public:
    explicit ModelName(std::string configured) : name_(std::move(configured)) {}

    std::optional<std::string> known() {
        std::lock_guard lock(mutex_);
        return name_.empty() ? std::nullopt : std::optional(name_);
    }
    bool worth_asking() {
        std::lock_guard lock(mutex_);
        return name_.empty() && !given_up_;
    }
    void asking() { ++asked_; }
    uint64_t asked() const { return asked_.load(); }
    // What GET /v1/models answered. A server that cannot say (no such route, no model in its list)
    // is not asked again; one that could not be reached, or was not ready, is.
    std::optional<std::string> learn(const cppworker::UpstreamAnswer& a, const cppworker::Host& host) {
        const bool no_route = a.head.status == 404 || a.head.status == 405;
        if (!a.result.ok() || (a.head.status != 200 && !no_route)) return std::nullopt;
        const auto id = a.head.status == 200 ? openai_plugin::first_model_id(a.body) : std::nullopt;
        std::lock_guard lock(mutex_);
        if (!name_.empty()) return name_;
        if (!id) {
            if (!std::exchange(given_up_, true)) {
                host.warn("GET /v1/models named no model (status " + std::to_string(a.head.status) +
                          "); requests without \"model\" go on as they are (set OPENAI_MODEL to name one)");
            }
            return std::nullopt;
        }
        name_ = *id;
        host.info("requests without \"model\" get \"" + name_ + "\", the model server's first model");
        return name_;
    }

private:
    std::mutex mutex_;
    std::string name_;
    bool given_up_ = false;
    std::atomic<uint64_t> asked_{0};
};

}  // namespace

class OpenAi : public cppworker::Plugin {
public:
    enum Route : uint32_t { completions, chat_completions };
    static constexpr cppw_route routes[] = {
        cppworker::route(CPPW_METHOD_POST, "/v1/completions", {.max_queue_time = 60.0}),
        cppworker::route(CPPW_METHOD_POST, "/v1/chat/completions", {.max_queue_time = 60.0}),
    };
    // vLLM's lines (uvicorn's start-up line also ends SGLang's start). Static: the worker reads
    // them with the routes, before any plugin code runs, so no option can change them.
    static constexpr const char* loaded[] = {"Application startup complete.", nullptr};
    static constexpr const char* errors[] = {
        "INFO exited: vllm", "RuntimeError: Engine", "Traceback (most recent call last):", nullptr};
    static constexpr const char* info[] = {R"("message":"Download)", nullptr};
    static constexpr cppw_readiness readiness =
        cppworker::make_readiness(completions, loaded, errors, info, "/health", 2, 100);
    static constexpr const char* model_server_url = "http://127.0.0.1:18000";

    explicit OpenAi(cppworker::Host host)
        : Plugin(host),
          defaults_{number(host, "OPENAI_DEFAULT_MAX_TOKENS", openai_plugin::Defaults{}.completion_max_tokens),
                    number(host, "OPENAI_DEFAULT_CHAT_MAX_TOKENS", openai_plugin::Defaults{}.chat_max_tokens)},
          benchmark_max_tokens_(number(host, "OPENAI_BENCHMARK_MAX_TOKENS", openai_plugin::benchmark_max_tokens)),
          configured_model_(host.config_or("OPENAI_MODEL", "")),
          model_(std::make_shared<ModelName>(configured_model_)) {}

    // What workload read of the payload is kept for handle, which then parses nothing.
    double workload(const Request& r) override {
        auto sizing = read(r);
        const double w = openai_plugin::workload(sizing);
        r.keep(std::move(sizing));
        return w;
    }

    void handle(const Request& r, Reply reply) override {
        const auto* kept = r.kept<openai_plugin::Sizing>();
        const auto sizing = kept ? *kept : read(r);  // a host older than ABI 1.3 carries nothing
        Target target{routes[r.route_index].path, sizing.stream, streamed_};
        if (sizing.has_model) return target.send(std::move(reply), r.payload);
        if (const auto name = model_->known()) {
            return target.send(std::move(reply), openai_plugin::with_model(r.payload, *name));
        }
        if (!model_->worth_asking()) return target.send(std::move(reply), r.payload);

        model_->asking();
        auto waiting = std::make_shared<Reply>(std::move(reply));
        waiting->fetch(cppworker::UpstreamRequest{CPPW_METHOD_GET, "/v1/models", {}},
                       [waiting, target, body = std::string(r.payload), model = model_,
                        host = host()](cppworker::UpstreamAnswer a) {
                           const auto name = model->learn(a, host);
                           target.send(std::move(*waiting), name ? openai_plugin::with_model(body, *name) : body);
                       });
    }

    void metrics(cppworker::Metrics& m) override {
        m.counter("openai_streamed_chunks_total",
                  "streamed choice deltas carrying generated output (about a token each)",
                  static_cast<double>(streamed_->items.load()));
        m.counter("openai_streams_total", "streamed answers relayed to their end",
                  static_cast<double>(streamed_->streams.load()));
        m.counter("openai_model_lookups_total", "GET /v1/models asked to name the model of requests without one",
                  static_cast<double>(model_->asked()));
    }

    bool benchmark_payload(uint32_t index, cppworker::PayloadSink& sink) override {
        sink.json(openai_plugin::benchmark_payload(index, configured_model_, benchmark_max_tokens_));
        return true;
    }

private:
    // Where a request goes and how its answer comes back: relayed by the worker, or through the
    // plugin when it streams, to count its output.
    struct Target {
        const char* path;
        bool stream;
        std::shared_ptr<plugin_common::StreamCounters> counters;

        void send(Reply reply, std::string_view body) const {
            const cppworker::UpstreamRequest request{CPPW_METHOD_POST, path, body};
            if (stream) {
                reply.transform(request,
                                std::make_unique<plugin_common::CountingRelay>(&openai_plugin::output_chunks, counters),
                                true);
                return;
            }
            const auto st = reply.forward(request);
            if (st != CPPW_OK) plugin_common::answer_refused_forward(reply, st);
        }
    };

    openai_plugin::Sizing read(const Request& r) const {
        return openai_plugin::read_request(r.payload, r.route_index == chat_completions ? Api::chat : Api::completions,
                                           defaults_);
    }
    static uint64_t number(const cppworker::Host& host, const char* key, uint64_t fallback) {
        return plugin_common::positive_integer(key, host.config_or(key, ""), fallback);
    }

    const openai_plugin::Defaults defaults_;
    const uint64_t benchmark_max_tokens_;
    const std::string configured_model_;
    const std::shared_ptr<ModelName> model_;
    const std::shared_ptr<plugin_common::StreamCounters> streamed_ = std::make_shared<plugin_common::StreamCounters>();
};

CPPWORKER_PLUGIN(OpenAi, "openai", "1.0.0")
