// ComfyUI's payloads, sized and checked without a worker: the workflow graph read for its image
// size, batch and sampler steps, PyWorker Gen 2's image-token formula, ComfyUI's history entries,
// and the benchmark workflow.
#pragma once

#include "../common/random_words.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace comfyui_plugin {

namespace json = boost::json;

// What a workflow without sampler nodes costs: PyWorker's default workload per request.
inline constexpr double fallback_workload = 100.0;

// OpenAI-style image tokens (85 + 175 per 512-pixel tile) scaled by PyWorker Gen 2's fit of
// request time against sampler steps, Y = 0.61·steps + 6.57 (measured with Flux on a 4090).
inline double image_tokens(double width, double height, double steps) {
    const double tiles = std::ceil(width / 512.0) * std::ceil(height / 512.0);
    return (85.0 + 175.0 * tiles) * (0.61 * steps + 6.57);
}

// Normalised so a 1024x1024, 28-step image is 200 x `scale`. PyWorker Gen 2 multiplied by the
// seconds such an image takes (23 for Flux, 6 for SD3); scale 1 keeps the unit model-independent.
inline double image_workload(double width, double height, double steps, double batch, double scale = 1.0) {
    return scale * 200.0 * batch * image_tokens(width, height, steps) / image_tokens(1024, 1024, 28);
}

// What the sizing found in a workflow. Unreadable values keep PyWorker's defaults for custom
// workflows (1024x1024, 28 steps, batch 1).
struct Sizing {
    double width = 1024, height = 1024, steps = 28, batch = 1;
};

namespace detail {

inline std::optional<double> number(const json::value& v) {
    if (v.is_int64()) return static_cast<double>(v.get_int64());
    if (v.is_uint64()) return static_cast<double>(v.get_uint64());
    if (v.is_double()) return v.get_double();
    return std::nullopt;
}

// A node input is a literal or a link ["node id", output]; a link to a primitive node (PrimitiveInt
// and the like keep their number in inputs.value) is followed one step.
inline std::optional<double> input_number(const json::object& workflow, const json::object& inputs,
                                          std::string_view name) {
    const auto* v = inputs.if_contains(name);
    if (v == nullptr) return std::nullopt;
    if (auto n = number(*v)) return n;
    const auto* link = v->if_array();
    if (link == nullptr || link->size() != 2 || !(*link)[0].is_string()) return std::nullopt;
    const auto* node = workflow.if_contains((*link)[0].get_string());
    const auto* node_obj = node ? node->if_object() : nullptr;
    const auto* node_inputs = node_obj && node_obj->contains("inputs") ? node_obj->at("inputs").if_object() : nullptr;
    if (node_inputs == nullptr) return std::nullopt;
    const auto* value = node_inputs->if_contains("value");
    return value ? number(*value) : std::nullopt;
}

inline double clamp(double v, double lo, double hi) { return std::clamp(v, lo, hi); }

// Empty latent nodes fix the image size: EmptyLatentImage, EmptySD3LatentImage,
// EmptyHunyuanLatentVideo, ... (any "Empty...Latent..." class with a width and a height).
inline bool is_empty_latent(std::string_view cls) {
    return cls.starts_with("Empty") && cls.find("Latent") != std::string_view::npos;
}

// Sampler steps live on KSampler, KSamplerAdvanced, or a scheduler node (BasicScheduler,
// AlignYourStepsScheduler, ...) feeding SamplerCustom(Advanced), which have none of their own.
inline std::optional<double> node_steps(const json::object& workflow, std::string_view cls, const json::object& inputs) {
    if (cls == "KSamplerAdvanced") {
        // A refiner chain splits one schedule across samplers: count only the steps this one runs.
        const double steps = input_number(workflow, inputs, "steps").value_or(28);
        const double start = input_number(workflow, inputs, "start_at_step").value_or(0);
        const double end = input_number(workflow, inputs, "end_at_step").value_or(10000);
        return std::max(0.0, std::min(end, steps) - start);
    }
    if (cls == "KSampler" || (cls.ends_with("Scheduler") && inputs.contains("steps"))) {
        return input_number(workflow, inputs, "steps").value_or(28);
    }
    return std::nullopt;
}

}  // namespace detail

// Sizes a workflow in ComfyUI's API format ({"<id>": {"class_type": ..., "inputs": {...}}}).
// Steps add up over sampler nodes (a two-pass workflow runs both); the largest empty latent gives
// the size and the largest batch the batch. No sampler node: nullopt. Values are clamped to
// ComfyUI's own limits (16384 pixels a side, 10000 steps, batch 4096).
inline std::optional<Sizing> size_workflow(const json::object& workflow) {
    Sizing out;
    bool sampled = false, sized = false;
    double total_steps = 0;
    for (const auto& [id, node_value] : workflow) {
        const auto* node = node_value.if_object();
        if (node == nullptr) continue;
        const auto* cls_value = node->if_contains("class_type");
        const auto* inputs_value = node->if_contains("inputs");
        if (cls_value == nullptr || !cls_value->is_string() || inputs_value == nullptr || !inputs_value->is_object()) {
            continue;
        }
        const std::string_view cls = cls_value->get_string();
        const auto& inputs = inputs_value->get_object();
        if (auto steps = detail::node_steps(workflow, cls, inputs)) {
            total_steps += detail::clamp(*steps, 0, 10000);
            sampled = true;
        }
        if (detail::is_empty_latent(cls) && inputs.contains("width") && inputs.contains("height")) {
            const double w = detail::clamp(detail::input_number(workflow, inputs, "width").value_or(1024), 1, 16384);
            const double h = detail::clamp(detail::input_number(workflow, inputs, "height").value_or(1024), 1, 16384);
            const double b = detail::clamp(detail::input_number(workflow, inputs, "batch_size").value_or(1), 1, 4096);
            if (!sized || w * h > out.width * out.height) {
                out.width = w;
                out.height = h;
            }
            out.batch = sized ? std::max(out.batch, b) : b;
            sized = true;
        }
    }
    if (!sampled) return std::nullopt;
    out.steps = std::min(total_steps, 10000.0);
    return out;
}

inline double workflow_workload(const json::object& workflow, double scale = 1.0) {
    const auto s = size_workflow(workflow);
    if (!s) return fallback_workload * scale;
    return image_workload(s->width, s->height, s->steps, s->batch, scale);
}

namespace detail {

inline const json::object& payload_object(const json::value& payload) {
    if (!payload.is_object()) throw std::invalid_argument("the payload must be a JSON object");
    return payload.get_object();
}

inline json::value parse_payload(std::string_view text) {
    boost::system::error_code ec;
    json::value v = json::parse(text, ec);
    if (ec) throw std::invalid_argument("the payload is not valid JSON: " + ec.message());
    return v;
}

}  // namespace detail

// The API wrapper's /generate/sync body: {"input": {"workflow_json": {...}} or
// {"input": {"modifier": "Text2Image", "modifications": {"width": ..., "steps": ...}}}.
// A modifier's built-in workflow is sized from its modifications; the wrapper's Text2Image
// workflow renders 1024x1024 at 20 steps unless told otherwise.
inline double wrapper_workload(const json::value& payload, double scale = 1.0) {
    const auto& body = detail::payload_object(payload);
    const auto* input = body.if_contains("input");
    if (input == nullptr || !input->is_object()) {
        throw std::invalid_argument("payload needs \"input\" as an object (the API wrapper's request)");
    }
    const auto& in = input->get_object();
    const auto* workflow = in.if_contains("workflow_json");
    if (workflow != nullptr && !workflow->is_object()) {
        throw std::invalid_argument("\"input.workflow_json\" must be an object (a workflow in ComfyUI's API format)");
    }
    const auto* mods = in.if_contains("modifications");
    if (mods != nullptr && !mods->is_object()) {
        throw std::invalid_argument("\"input.modifications\" must be an object");
    }
    const auto* modifier = in.if_contains("modifier");
    if (modifier != nullptr && !modifier->is_string()) {
        throw std::invalid_argument("\"input.modifier\" must be a string");
    }
    if (workflow != nullptr && !workflow->get_object().empty()) return workflow_workload(workflow->get_object(), scale);
    if (modifier != nullptr && !modifier->get_string().empty()) {
        static const json::object none;
        const auto& m = mods ? mods->get_object() : none;
        const auto get = [&](const char* key, double fallback, double lo, double hi) {
            const auto* v = m.if_contains(key);
            return detail::clamp(v ? detail::number(*v).value_or(fallback) : fallback, lo, hi);
        };
        return image_workload(get("width", 1024, 1, 16384), get("height", 1024, 1, 16384), get("steps", 20, 0, 10000),
                              get("batch_size", 1, 1, 4096), scale);
    }
    return fallback_workload * scale;
}

// ComfyUI's own POST /prompt body: {"prompt": {...workflow...}, "client_id": ..., ...}.
inline double prompt_workload(const json::value& payload, double scale = 1.0) {
    const auto& body = detail::payload_object(payload);
    const auto* prompt = body.if_contains("prompt");
    if (prompt == nullptr || !prompt->is_object()) {
        throw std::invalid_argument("payload needs \"prompt\" as an object (a workflow in ComfyUI's API format)");
    }
    return workflow_workload(prompt->get_object(), scale);
}

inline double wrapper_workload(std::string_view payload, double scale = 1.0) {
    return wrapper_workload(detail::parse_payload(payload), scale);
}
inline double prompt_workload(std::string_view payload, double scale = 1.0) {
    return prompt_workload(detail::parse_payload(payload), scale);
}

// The prompt_id of ComfyUI's answer to POST /prompt ({"prompt_id": ..., "number": ..., "node_errors": {}}).
inline std::optional<std::string> prompt_id(std::string_view answer) {
    boost::system::error_code ec;
    const json::value v = json::parse(answer, ec);
    if (ec || !v.is_object()) return std::nullopt;
    const auto* id = v.get_object().if_contains("prompt_id");
    if (id == nullptr || !id->is_string() || id->get_string().empty()) return std::nullopt;
    return std::string(id->get_string());
}

// Percent-encodes a query value (RFC 3986 unreserved characters pass).
inline std::string query_escape(std::string_view s) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

// Where ComfyUI serves an output file.
inline std::string view_url(std::string_view base, std::string_view filename, std::string_view subfolder,
                            std::string_view type) {
    std::string b(base);
    while (!b.empty() && b.back() == '/') b.pop_back();
    return b + "/view?filename=" + query_escape(filename) + "&subfolder=" + query_escape(subfolder) +
           "&type=" + query_escape(type);
}

// How a prompt ended, read from GET /history/<prompt_id>.
struct HistoryOutcome {
    enum class State { pending, success, error } state = State::pending;
    std::string body;     // success: the entry, with "prompt_id" and each file's "view" URL added
    std::string message;  // error: what ComfyUI reported
};

namespace detail {

// ComfyUI's execution_error / execution_interrupted message, as one line.
inline std::string execution_error(const json::object& status) {
    const auto* messages = status.if_contains("messages");
    if (messages == nullptr || !messages->is_array()) return "execution failed";
    for (const auto& m : messages->get_array()) {
        const auto* pair = m.if_array();
        if (pair == nullptr || pair->size() != 2 || !(*pair)[0].is_string() || !(*pair)[1].is_object()) continue;
        const std::string_view kind = (*pair)[0].get_string();
        const auto& info = (*pair)[1].get_object();
        const auto text = [&](const char* key) {
            const auto* v = info.if_contains(key);
            return v && v->is_string() ? std::string(v->get_string()) : std::string();
        };
        if (kind == "execution_interrupted") return "execution interrupted at node " + text("node_id") + " (" + text("node_type") + ")";
        if (kind == "execution_error") {
            return "node " + text("node_id") + " (" + text("node_type") + ") raised " + text("exception_type") + ": " +
                   text("exception_message");
        }
    }
    return "execution failed";
}

}  // namespace detail

// A history answer holds the entry once the prompt ran (ComfyUI writes history at the end);
// before that, {}. An entry without "status" comes from a ComfyUI older than status reporting,
// which only kept successful runs.
inline HistoryOutcome read_history(std::string_view answer, std::string_view id, std::string_view view_base) {
    boost::system::error_code ec;
    json::value v = json::parse(answer, ec);
    if (ec || !v.is_object()) return {HistoryOutcome::State::error, {}, "ComfyUI's history answer is not a JSON object"};
    auto* entry_value = v.get_object().if_contains(id);
    if (entry_value == nullptr) return {};
    if (!entry_value->is_object()) return {HistoryOutcome::State::error, {}, "ComfyUI's history entry is not an object"};
    auto& entry = entry_value->get_object();
    if (const auto* status = entry.if_contains("status"); status && status->is_object()) {
        const auto* str = status->get_object().if_contains("status_str");
        if (str && str->is_string() && str->get_string() == "error") {
            return {HistoryOutcome::State::error, {}, detail::execution_error(status->get_object())};
        }
    }
    if (auto* outputs = entry.if_contains("outputs"); outputs && outputs->is_object()) {
        for (auto& [node, out] : outputs->get_object()) {
            auto* kinds = out.if_object();
            if (kinds == nullptr) continue;
            // "images", "gifs", "audio", "video"...: lists of {filename, subfolder, type}.
            for (auto& [kind, files] : *kinds) {
                auto* list = files.if_array();
                if (list == nullptr) continue;
                for (auto& f : *list) {
                    auto* file = f.if_object();
                    if (file == nullptr || !file->contains("filename") || !file->at("filename").is_string()) continue;
                    const auto str = [&](const char* key) {
                        const auto* s = file->if_contains(key);
                        return s && s->is_string() ? std::string_view(s->get_string()) : std::string_view();
                    };
                    std::string url = view_url(view_base, str("filename"), str("subfolder"),
                                               str("type").empty() ? std::string_view("output") : str("type"));
                    (*file)["view"] = std::move(url);  // after the views into *file are done with
                }
            }
        }
    }
    entry["prompt_id"] = id;
    return {HistoryOutcome::State::success, json::serialize(entry), {}};
}

// A seed per benchmark index: distinct across indices, the same on every run.
inline uint64_t benchmark_seed(uint32_t index) {
    uint64_t z = 0x9E3779B97F4A7C15ull * (uint64_t(index) + 1);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return (z ^ (z >> 31)) & 0xFFFFFFFFFFFFull;  // ComfyUI's seed inputs stop at 2^64-1; keep it JSON-exact
}

// The default benchmark: SD 1.5 txt2img, 512x512, 20 steps, one image.
inline json::object benchmark_workflow(uint32_t index, std::string_view checkpoint) {
    const auto link = [](const char* node, int out) { return json::array{node, out}; };
    return json::object{
        {"3", {{"class_type", "KSampler"},
               {"inputs", {{"seed", benchmark_seed(index)}, {"steps", 20}, {"cfg", 7}, {"sampler_name", "euler"},
                           {"scheduler", "normal"}, {"denoise", 1}, {"model", link("4", 0)},
                           {"positive", link("6", 0)}, {"negative", link("7", 0)}, {"latent_image", link("5", 0)}}}}},
        {"4", {{"class_type", "CheckpointLoaderSimple"}, {"inputs", {{"ckpt_name", checkpoint}}}}},
        {"5", {{"class_type", "EmptyLatentImage"}, {"inputs", {{"width", 512}, {"height", 512}, {"batch_size", 1}}}}},
        {"6", {{"class_type", "CLIPTextEncode"},
               {"inputs", {{"text", plugin_common::random_words(index, 12)}, {"clip", link("4", 1)}}}}},
        {"7", {{"class_type", "CLIPTextEncode"}, {"inputs", {{"text", "blurry, low quality"}, {"clip", link("4", 1)}}}}},
        {"8", {{"class_type", "VAEDecode"}, {"inputs", {{"samples", link("3", 0)}, {"vae", link("4", 2)}}}}},
        {"9", {{"class_type", "SaveImage"}, {"inputs", {{"filename_prefix", "cppworker_benchmark"}, {"images", link("8", 0)}}}}},
    };
}

// A workflow of the deployment's own (COMFYUI_BENCHMARK_WORKFLOW) with every literal seed input
// replaced, so no two benchmark requests hit ComfyUI's cache of identical executions.
inline json::object reseed(json::object workflow, uint32_t index) {
    for (auto& [id, node] : workflow) {
        auto* n = node.if_object();
        if (n == nullptr || !n->contains("inputs") || !n->at("inputs").is_object()) continue;
        for (const char* key : {"seed", "noise_seed"}) {
            auto& inputs = n->at("inputs").get_object();
            if (auto* s = inputs.if_contains(key); s && detail::number(*s)) *s = benchmark_seed(index);
        }
    }
    return workflow;
}

// The body of benchmark request `index` for the wrapper's /generate/sync.
inline std::string benchmark_payload(uint32_t index, std::string_view checkpoint, const json::object* custom = nullptr) {
    json::object workflow = custom ? reseed(*custom, index) : benchmark_workflow(index, checkpoint);
    return json::serialize(json::object{{"input", {{"workflow_json", std::move(workflow)}}}});
}

}  // namespace comfyui_plugin
