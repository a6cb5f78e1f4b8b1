// ComfyUI, either behind Vast's API wrapper (POST /generate/sync, relayed, one job at a time in the
// worker's FIFO queue) or directly (POST /prompt: submit to ComfyUI, which queues prompts itself,
// then poll /history until the prompt ran, waiting between polls on the host's timers).
#include "comfyui_logic.hpp"

#include "../common/refused_forward.hpp"

#include <cppworker/plugin.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace json = boost::json;
using cppworker::Reply, cppworker::Request, cppworker::UpstreamAnswer, cppworker::UpstreamRequest;
using Clock = std::chrono::steady_clock;

namespace {

double positive_number(const cppworker::Host& host, const char* key, const char* fallback) {
    const std::string text = host.config_or(key, fallback);
    try {
        size_t used = 0;
        const double v = std::stod(text, &used);
        if (used == text.size() && v > 0) return v;
    } catch (const std::exception&) {
    }
    throw std::invalid_argument(std::string(key) + " must be a positive number, got '" + text + "'");
}

// A workflow file for the benchmark: a bare API-format workflow, or a request body that holds one.
std::optional<json::object> load_workflow(const std::string& path) {
    if (path.empty()) return std::nullopt;
    std::ifstream in(path);
    if (!in) throw std::invalid_argument("COMFYUI_BENCHMARK_WORKFLOW: cannot read " + path);
    std::stringstream text;
    text << in.rdbuf();
    boost::system::error_code ec;
    json::value v = json::parse(text.str(), ec);
    if (ec || !v.is_object()) throw std::invalid_argument("COMFYUI_BENCHMARK_WORKFLOW: " + path + " is not a JSON object");
    auto& o = v.get_object();
    if (auto* input = o.if_contains("input"); input && input->is_object()) {
        if (auto* w = input->get_object().if_contains("workflow_json"); w && w->is_object()) return w->get_object();
    }
    if (auto* prompt = o.if_contains("prompt"); prompt && prompt->is_object()) return prompt->get_object();
    return o;
}

}  // namespace

class ComfyUI : public cppworker::Plugin {
public:
    enum Route : uint32_t { generate_sync, prompt };
    // max_queue_time 10 s as PyWorker's ComfyUI worker. The wrapper runs one job at a time: FIFO.
    // ComfyUI keeps a queue of its own, run in order, so /prompt requests go to it at once and
    // wait there; between two polls a request holds no thread (the host's timers), so neither the
    // blocking pool nor the plugin caps how many wait.
    static constexpr cppw_route routes[] = {
        cppworker::route(CPPW_METHOD_POST, "/generate/sync",
                         {.concurrency = CPPW_CONCURRENCY_FIFO, .max_queue_time = 10.0}),
        cppworker::route(CPPW_METHOD_POST, "/prompt", {.max_queue_time = 10.0}),
    };
    static constexpr const char* loaded[] = {"To see the GUI go to: ", nullptr};
    static constexpr const char* errors[] = {"MetadataIncompleteBuffer", "Value not in list: ",
                                             "[ERROR] Provisioning Script failed", nullptr};
    static constexpr const char* infos[] = {"Downloading", nullptr};
    static constexpr cppw_readiness readiness =
        cppworker::make_readiness(generate_sync, loaded, errors, infos, "/health", 3, 1);
    static constexpr const char* model_server_url = "http://127.0.0.1:18288";

    explicit ComfyUI(cppworker::Host h)
        : Plugin(h),
          poll_interval_(positive_number(h, "COMFYUI_POLL_INTERVAL", "0.25")),
          // Under the worker's --request-timeout (600 s): past that the worker answers 504 itself
          // and the request is cancelled, so the plugin could no longer clear ComfyUI's queue.
          timeout_(positive_number(h, "COMFYUI_TIMEOUT", "570")),
          scale_(positive_number(h, "COMFYUI_WORKLOAD_SCALE", "1")),
          view_base_(h.config_or("COMFYUI_VIEW_BASE_URL", "")),
          checkpoint_(h.config_or("COMFYUI_BENCHMARK_CHECKPOINT", "v1-5-pruned-emaonly-fp16.safetensors")),
          benchmark_workflow_(load_workflow(h.config_or("COMFYUI_BENCHMARK_WORKFLOW", ""))) {}

    double workload(const Request& r) override {
        return r.route_index == generate_sync ? comfyui_plugin::wrapper_workload(r.payload, scale_)
                                              : comfyui_plugin::prompt_workload(r.payload, scale_);
    }

    void handle(const Request& r, Reply reply) override {
        if (r.route_index == generate_sync) {
            const auto st = reply.forward(UpstreamRequest{CPPW_METHOD_POST, "/generate/sync", r.payload});
            if (st != CPPW_OK) plugin_common::answer_refused_forward(reply, st);
            return;
        }
        const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout_));
        auto job = std::make_shared<Prompt>(Prompt{std::move(reply), deadline, {}});
        job->reply.fetch(UpstreamRequest{CPPW_METHOD_POST, "/prompt", r.payload},
                         [this, job](UpstreamAnswer submitted) { on_submitted(job, std::move(submitted)); });
    }

    void metrics(cppworker::Metrics& m) override {
        m.counter("comfyui_prompts_submitted_total", "prompts ComfyUI accepted on POST /prompt", submitted_);
        m.counter("comfyui_history_polls_total", "GET /history polls", polls_);
        m.counter("comfyui_prompt_failures_total", "prompts ComfyUI ran and reported as failed", failures_);
        m.counter("comfyui_prompt_timeouts_total", "prompts given up on after COMFYUI_TIMEOUT", timeouts_);
    }

    bool benchmark_payload(uint32_t index, cppworker::PayloadSink& sink) override {
        sink.json(comfyui_plugin::benchmark_payload(index, checkpoint_,
                                                    benchmark_workflow_ ? &*benchmark_workflow_ : nullptr));
        return true;
    }

private:
    // One /prompt request, from submitting to the answer. Every step after handle runs on the
    // request's event loop (the callbacks of its fetches and timers), one at a time.
    struct Prompt {
        Reply reply;
        Clock::time_point deadline;  // COMFYUI_TIMEOUT after handle
        std::string id;              // ComfyUI's prompt_id, once it accepted the prompt
    };
    using Job = std::shared_ptr<Prompt>;

    void on_submitted(const Job& job, UpstreamAnswer submitted) {
        if (!submitted.result.ok()) return (void)job->reply.fail(submitted.result);
        // ComfyUI's refusals (400 with node_errors) are the client's to read, as ComfyUI wrote them.
        if (submitted.head.status != 200) {
            const std::string type = submitted.head.content_type.empty() ? "application/json" : submitted.head.content_type;
            return (void)job->reply.send(submitted.head.status, type, submitted.body);
        }
        const auto id = comfyui_plugin::prompt_id(submitted.body);
        if (!id) return (void)job->reply.fail(502, "ComfyUI accepted the prompt but its answer names no prompt_id");
        ++submitted_;
        job->id = *id;
        wait_then_poll(job);
    }

    // The next poll after COMFYUI_POLL_INTERVAL (or at the deadline), on a timer: no thread waits.
    void wait_then_poll(const Job& job) {
        const auto interval = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(poll_interval_));
        const auto pause = std::clamp(job->deadline - Clock::now(), Clock::duration::zero(), interval);
        const auto st = job->reply.after(std::chrono::ceil<std::chrono::milliseconds>(pause), [this, job](cppw_status s) {
            if (s == CPPW_CANCELLED) return left(job);
            poll(job);
        });
        if (st == CPPW_CANCELLED) return left(job);
        if (st != CPPW_OK) {
            job->reply.fail(500, "cannot wait for ComfyUI between polls (timer_start status " +
                                     std::to_string(static_cast<int>(st)) + "; the worker needs ABI 1.4)");
        }
    }

    void poll(const Job& job) {
        job->reply.fetch(UpstreamRequest{CPPW_METHOD_GET, "/history/" + job->id, {}}, [this, job](UpstreamAnswer history) {
            ++polls_;
            if (history.result.status == CPPW_CANCELLED) return left(job);
            if (!history.result.ok()) return (void)job->reply.fail(history.result);
            if (history.head.status != 200) {
                return (void)job->reply.fail(502, "ComfyUI answered GET /history/" + job->id + " with status " +
                                                      std::to_string(history.head.status));
            }
            auto outcome = comfyui_plugin::read_history(history.body, job->id, view_base_);
            if (outcome.state == comfyui_plugin::HistoryOutcome::State::success) {
                return (void)job->reply.json(200, outcome.body);
            }
            if (outcome.state == comfyui_plugin::HistoryOutcome::State::error) {
                ++failures_;
                return (void)job->reply.fail(500, "ComfyUI could not run prompt " + job->id + ": " + outcome.message);
            }
            if (Clock::now() >= job->deadline) return give_up(job);
            wait_then_poll(job);
        });
    }

    // The client left (or the worker gave the request up): its answer is dropped, and ComfyUI is
    // freed for the next prompt by requests of the plugin's own, since this one can no longer
    // reach it.
    void left(const Job& job) {
        clear(job->id, [](UpstreamAnswer) {});
        job->reply.fail(499, "the client left before ComfyUI finished prompt " + job->id);
    }

    // COMFYUI_TIMEOUT passed: ComfyUI is freed before the 504 goes out, with requests of the
    // plugin's own, which go out even if the client leaves meanwhile.
    void give_up(const Job& job) {
        ++timeouts_;
        clear(job->id, [this, job](UpstreamAnswer) {
            std::ostringstream limit;
            limit << timeout_;
            job->reply.fail(504, "ComfyUI did not finish prompt " + job->id + " within COMFYUI_TIMEOUT (" + limit.str() +
                                     " s)");
        });
    }

    // Frees ComfyUI of prompt `id` with requests of the plugin's own, which go out whether or not
    // the client is still there: deleted if still queued, then interrupted if running (ComfyUI
    // interrupts only the prompt named, so a later one is safe). `then` runs once both were
    // answered (or failed, which is logged).
    void clear(const std::string& id, std::function<void(UpstreamAnswer)> then) {
        // UpstreamRequest views its body, which the host copies before fetch returns.
        const std::string remove = json::serialize(json::object{{"delete", json::array{json::string(id)}}});
        host().fetch(UpstreamRequest{CPPW_METHOD_POST, "/queue", remove},
                     [this, id, then = std::move(then)](UpstreamAnswer removed) mutable {
                         log_failure("/queue", removed);
                         const std::string interrupt = json::serialize(json::object{{"prompt_id", id}});
                         host().fetch(UpstreamRequest{CPPW_METHOD_POST, "/interrupt", interrupt},
                                      [this, then = std::move(then)](UpstreamAnswer interrupted) {
                                          log_failure("/interrupt", interrupted);
                                          then(std::move(interrupted));
                                      });
                     });
    }

    void log_failure(std::string_view target, const UpstreamAnswer& a) const {
        if (!a.result.ok() || a.head.status != 200) {
            host().warn("clearing a prompt: POST " + std::string(target) + " failed: " +
                        (a.result.ok() ? "status " + std::to_string(a.head.status) : a.result.message));
        }
    }

    const double poll_interval_;
    const double timeout_;
    const double scale_;
    const std::string view_base_;
    const std::string checkpoint_;
    const std::optional<json::object> benchmark_workflow_;
    std::atomic<uint64_t> submitted_{0}, polls_{0}, failures_{0}, timeouts_{0};
};

CPPWORKER_PLUGIN(ComfyUI, "comfyui", "1.1.0")
