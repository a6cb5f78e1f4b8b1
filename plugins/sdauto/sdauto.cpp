// The Stable Diffusion web UI (AUTOMATIC1111) started with --api: txt2img and img2img relayed as
// they are. A1111 renders one job at a time behind its queue lock, so both routes are FIFO: a job
// whose client leaves while it waits in the worker's queue is dropped there and never sent.
#include "sdauto_logic.hpp"

#include "../common/refused_forward.hpp"

#include <cppworker/plugin.hpp>

#include <string>

using cppworker::Reply, cppworker::Request;

class SdAuto : public cppworker::Plugin {
public:
    enum Route : uint32_t { txt2img, img2img };
    // Vast's sdauto worker called itself overloaded past 30 s of waiting: here a request that would
    // queue behind more than 30 s of work is refused (429) instead.
    static constexpr cppw_route routes[] = {
        cppworker::route(CPPW_METHOD_POST, "/sdapi/v1/txt2img",
                         {.concurrency = CPPW_CONCURRENCY_FIFO, .max_queue_time = 30.0}),
        cppworker::route(CPPW_METHOD_POST, "/sdapi/v1/img2img",
                         {.concurrency = CPPW_CONCURRENCY_FIFO, .max_queue_time = 30.0}),
    };
    // A1111 prints "Model loaded in 4.2s (...)" once the checkpoint is in memory, after its server
    // is up. Not "Traceback": A1111 prints one for every failed request too, which a worker
    // survives. Only a failed checkpoint load (with or without ", exiting": older versions exit,
    // newer ones serve without a model) and a missing GPU are fatal.
    static constexpr const char* loaded[] = {"Model loaded in ", nullptr};
    static constexpr const char* errors[] = {"Stable diffusion model failed to load", "Torch is not able to use GPU",
                                             nullptr};
    static constexpr const char* infos[] = {"Loading weights", "Downloading", nullptr};
    // /sdapi/v1/progress is served in every --api mode (/internal/ping only with the Gradio UI,
    // not with --nowebui); skip_current_image spares it rendering a live preview.
    static constexpr cppw_readiness readiness = cppworker::make_readiness(
        txt2img, loaded, errors, infos, "/sdapi/v1/progress?skip_current_image=true", 3, 1);
    static constexpr const char* model_server_url = "http://127.0.0.1:17860";
    using Plugin::Plugin;

    double workload(const Request& r) override {
        return sdauto_plugin::workload(r.payload, r.route_index == img2img ? sdauto_plugin::Kind::img2img
                                                                           : sdauto_plugin::Kind::txt2img);
    }

    void handle(const Request& r, Reply reply) override {
        const auto st = reply.forward(cppworker::UpstreamRequest{CPPW_METHOD_POST, routes[r.route_index].path, r.payload});
        if (st != CPPW_OK) plugin_common::answer_refused_forward(reply, st);
    }

    bool benchmark_payload(uint32_t index, cppworker::PayloadSink& sink) override {
        sink.json(sdauto_plugin::benchmark_payload(index));
        return true;
    }

    // A1111 renders a job to the end after its client has gone (it never looks at the closed
    // connection), and the next job waits behind its queue lock all that time: interrupt it. The
    // FIFO route means the job given up is the one at A1111, which renders until the interrupt
    // lands; it stops at its next sampling step.
    void cancel(cppw_request_id id) override {
        host().fetch(cppworker::UpstreamRequest{CPPW_METHOD_POST, "/sdapi/v1/interrupt", {}},
                     [host = host(), id](const cppworker::UpstreamAnswer& a) {
                         if (a.result.ok() && a.head.status == 200) {
                             host.info("request " + std::to_string(id) + " given up: A1111 interrupted");
                         } else {
                             host.warn("request " + std::to_string(id) + " given up, but A1111's interrupt failed: " +
                                       (a.result.ok() ? "status " + std::to_string(a.head.status) : a.result.message));
                         }
                     });
    }
};

CPPWORKER_PLUGIN(SdAuto, "sdauto", "1.0.0")
