// ComfyUI, either behind Vast's API wrapper (POST /generate/sync, relayed) or directly (POST
// /prompt: submit, then poll /history until the prompt ran). One image job runs at a time, so both
// routes share the worker's FIFO queue.
#include "comfyui_logic.hpp"

#include "../common/refused_forward.hpp"

#include <cppworker/plugin.hpp>

#include <boost/json.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>

namespace json = boost::json;
using cppworker::Reply, cppworker::Request, cppworker::UpstreamRequest;
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
    // FIFO: ComfyUI runs one prompt at a time. max_queue_time 10 s as PyWorker's ComfyUI worker.
    static constexpr cppw_route routes[] = {
        cppworker::route(CPPW_METHOD_POST, "/generate/sync",
                         {.concurrency = CPPW_CONCURRENCY_FIFO, .max_queue_time = 10.0}),
        // Submit-and-poll waits between polls: the host's blocking pool, not an I/O thread.
        cppworker::route(CPPW_METHOD_POST, "/prompt",
                         {.concurrency = CPPW_CONCURRENCY_FIFO, .blocking = true, .max_queue_time = 10.0}),
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
        const Watch watch(*this, r.id);
        run_prompt(std::string(r.payload), std::move(reply));
    }

    // A prompt's client left: wake its polling thread, which clears the prompt out of ComfyUI. The
    // wrapper route needs nothing: Vast's API wrapper cancels a job whose connection closed.
    void cancel(cppw_request_id id) override {
        {
            std::lock_guard lock(watch_mutex_);
            const auto it = given_up_.find(id);
            if (it == given_up_.end()) return;
            it->second = true;
        }
        watch_changed_.notify_all();
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
    void run_prompt(const std::string& body, Reply reply) {
        const auto start = Clock::now();
        auto submitted = reply.fetch_wait(UpstreamRequest{CPPW_METHOD_POST, "/prompt", body});
        if (!submitted.result.ok()) return (void)reply.fail(submitted.result);
        // ComfyUI's refusals (400 with node_errors) are the client's to read, as ComfyUI wrote them.
        if (submitted.head.status != 200) {
            const std::string type = submitted.head.content_type.empty() ? "application/json" : submitted.head.content_type;
            return (void)reply.send(submitted.head.status, type, submitted.body);
        }
        const auto id = comfyui_plugin::prompt_id(submitted.body);
        if (!id) return (void)reply.fail(502, "ComfyUI accepted the prompt but its answer names no prompt_id");
        ++submitted_;

        const auto deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout_));
        const auto interval = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(poll_interval_));
        for (;;) {
            if (!pause(reply, std::min(Clock::now() + interval, deadline))) {
                // The client left: its answer is dropped, and ComfyUI is freed for the next prompt
                // by requests of the plugin's own, since this one can no longer reach it.
                clear(*id, [this](const UpstreamRequest& request) { host().fetch(request, log_failure(request)); });
                return (void)reply.fail(499, "the client left before ComfyUI finished prompt " + *id);
            }
            auto history = reply.fetch_wait(UpstreamRequest{CPPW_METHOD_GET, "/history/" + *id, {}});
            ++polls_;
            if (!history.result.ok()) return (void)reply.fail(history.result);
            if (history.head.status != 200) {
                return (void)reply.fail(502, "ComfyUI answered GET /history/" + *id + " with status " +
                                                 std::to_string(history.head.status));
            }
            auto outcome = comfyui_plugin::read_history(history.body, *id, view_base_);
            if (outcome.state == comfyui_plugin::HistoryOutcome::State::success) {
                return (void)reply.json(200, outcome.body);
            }
            if (outcome.state == comfyui_plugin::HistoryOutcome::State::error) {
                ++failures_;
                return (void)reply.fail(500, "ComfyUI could not run prompt " + *id + ": " + outcome.message);
            }
            if (Clock::now() >= deadline) return give_up(std::move(reply), *id);
        }
    }

    // While a /prompt request runs, `cancel` can find it.
    struct Watch {
        Watch(ComfyUI& p, cppw_request_id i) : plugin(p), id(i) {
            std::lock_guard lock(plugin.watch_mutex_);
            plugin.given_up_.emplace(id, false);
        }
        ~Watch() {
            std::lock_guard lock(plugin.watch_mutex_);
            plugin.given_up_.erase(id);
        }
        ComfyUI& plugin;
        cppw_request_id id;
    };

    // Waits until `until`; false as soon as the request is given up. A cancel that came before
    // the request was watched is seen through the host (reply.cancelled()) at the next pause.
    bool pause(const Reply& reply, Clock::time_point until) {
        if (reply.cancelled()) return false;
        const auto id = reply.id();
        std::unique_lock lock(watch_mutex_);
        return !watch_changed_.wait_until(lock, until, [&] {
            const auto it = given_up_.find(id);
            return it != given_up_.end() && it->second;
        });
    }

    // Frees ComfyUI of prompt `id`: deleted if still queued, interrupted if running (ComfyUI
    // interrupts only the prompt named, so a later one is safe). `send` makes the requests.
    template <class Send>
    static void clear(const std::string& id, Send send) {
        send(UpstreamRequest{CPPW_METHOD_POST, "/queue",
                             json::serialize(json::object{{"delete", json::array{json::string(id)}}})});
        send(UpstreamRequest{CPPW_METHOD_POST, "/interrupt", json::serialize(json::object{{"prompt_id", id}})});
    }

    std::function<void(cppworker::UpstreamAnswer)> log_failure(const UpstreamRequest& request) const {
        return [host = host(), target = std::string(request.target)](const cppworker::UpstreamAnswer& a) {
            if (!a.result.ok() || a.head.status != 200) {
                host.warn("clearing an abandoned prompt: POST " + target + " failed: " +
                          (a.result.ok() ? "status " + std::to_string(a.head.status) : a.result.message));
            }
        };
    }

    // Frees ComfyUI for the next request before answering.
    void give_up(Reply reply, const std::string& id) {
        ++timeouts_;
        clear(id, [&reply](const UpstreamRequest& request) { (void)reply.fetch_wait(request); });
        std::ostringstream limit;
        limit << timeout_;
        reply.fail(504, "ComfyUI did not finish prompt " + id + " within COMFYUI_TIMEOUT (" + limit.str() + " s)");
    }

    const double poll_interval_;
    const double timeout_;
    const double scale_;
    const std::string view_base_;
    const std::string checkpoint_;
    const std::optional<json::object> benchmark_workflow_;
    std::atomic<uint64_t> submitted_{0}, polls_{0}, failures_{0}, timeouts_{0};
    std::mutex watch_mutex_;
    std::condition_variable watch_changed_;
    std::unordered_map<cppw_request_id, bool> given_up_;  // running /prompt requests: given up yet?
};

CPPWORKER_PLUGIN(ComfyUI, "comfyui", "1.0.0")
