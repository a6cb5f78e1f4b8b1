// Hugging Face text-generation-inference (TGI): /generate relayed as is, /generate_stream relayed
// byte for byte while its tokens are counted. Worker routes equal TGI's paths; the envelope's
// payload is TGI's request body.
#include "tgi_logic.hpp"

#include "../common/config_value.hpp"
#include "../common/counting_relay.hpp"
#include "../common/refused_forward.hpp"

#include <cppworker/plugin.hpp>

#include <memory>

using cppworker::Reply, cppworker::Request;

class Tgi : public cppworker::Plugin {
public:
    enum Route : uint32_t { generate, generate_stream };
    static constexpr cppw_route routes[] = {
        cppworker::route(CPPW_METHOD_POST, "/generate"),
        cppworker::route(CPPW_METHOD_POST, "/generate_stream"),
    };
    // The lines of `text-generation-launcher --json-output`: the router's "Connected" (older TGI logs
    // it under text_generation_router::server), and the launcher's fatal errors.
    static constexpr const char* loaded[] = {
        R"("message":"Connected","target":"text_generation_router")",
        R"("message":"Connected","target":"text_generation_router::server")",
        nullptr};
    static constexpr const char* errors[] = {
        "Error: WebserverFailed", "Error: DownloadError", "Error: ShardCannotStart", nullptr};
    static constexpr cppw_readiness readiness =
        cppworker::make_readiness(generate, loaded, errors, nullptr, "/health", 0, 50);
    static constexpr const char* model_server_url = "http://127.0.0.1:5001";

    explicit Tgi(cppworker::Host host)
        : Plugin(host),
          default_max_new_tokens_(plugin_common::positive_integer(
              "TGI_DEFAULT_MAX_NEW_TOKENS", host.config_or("TGI_DEFAULT_MAX_NEW_TOKENS", ""),
              tgi_plugin::default_max_new_tokens)) {}

    double workload(const Request& r) override { return tgi_plugin::workload(r.payload, default_max_new_tokens_); }

    void handle(const Request& r, Reply reply) override {
        const cppworker::UpstreamRequest upstream{CPPW_METHOD_POST, routes[r.route_index].path, r.payload};
        if (r.route_index == generate) {
            const auto st = reply.forward(upstream);
            if (st != CPPW_OK) plugin_common::answer_refused_forward(reply, st);
            return;
        }
        reply.transform(upstream, std::make_unique<plugin_common::CountingRelay>(&tgi_plugin::token_events, streamed_),
                        true);
    }

    void metrics(cppworker::Metrics& m) override {
        m.counter("tgi_streamed_tokens_total", "tokens relayed from /generate_stream answers",
                  static_cast<double>(streamed_->items.load()));
        m.counter("tgi_streams_total", "/generate_stream answers relayed to their end",
                  static_cast<double>(streamed_->streams.load()));
    }

    bool benchmark_payload(uint32_t index, cppworker::PayloadSink& sink) override {
        sink.json(tgi_plugin::benchmark_payload(index));
        return true;
    }

private:
    const uint64_t default_max_new_tokens_;
    const std::shared_ptr<plugin_common::StreamCounters> streamed_ = std::make_shared<plugin_common::StreamCounters>();
};

CPPWORKER_PLUGIN(Tgi, "tgi", "1.0.0")
