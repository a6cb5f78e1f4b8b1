// The Stable Diffusion web UI's (AUTOMATIC1111) txt2img / img2img bodies, checked and sized
// without a worker, and the benchmark body.
#pragma once

#include "../common/random_words.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace sdauto_plugin {

namespace json = boost::json;

enum class Kind { txt2img, img2img };

// What a request asks A1111 to do, with A1111's own defaults for what it leaves out (the
// processing classes', not the UI's: an API request without "steps" runs 50).
struct Job {
    double width = 512, height = 512, steps = 50, batch_size = 1, n_iter = 1;
    // Steps actually sampled: img2img runs int(steps x denoising_strength) of them (A1111's
    // default, img2img_fix_steps off); a txt2img hires pass runs its steps in full.
    double sampled_steps = 50;
    double hires_pixels = 0, hires_steps = 0;  // txt2img enable_hr's second pass
    double prompt_words = 0;
};

namespace detail {

[[noreturn]] inline void bad(std::string_view field, std::string_view what) {
    throw std::invalid_argument("\"" + std::string(field) + "\" " + std::string(what));
}

// A number as A1111's pydantic (v1) model takes one: a JSON number, or a string holding one.
inline std::optional<double> number(const json::object& body, std::string_view field) {
    const auto* v = body.if_contains(field);
    if (v == nullptr || v->is_null()) return std::nullopt;
    if (v->is_int64()) return static_cast<double>(v->get_int64());
    if (v->is_uint64()) return static_cast<double>(v->get_uint64());
    if (v->is_double()) return v->get_double();
    if (v->is_string()) {
        std::string_view s = v->get_string();
        if (!s.empty() && s.front() == '+') s.remove_prefix(1);
        double out = 0;
        const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
        if (ec == std::errc{} && end == s.data() + s.size() && std::isfinite(out)) return out;
    }
    bad(field, "must be a number");
}

// An integer field: pydantic v1 truncates a float; A1111 needs it at least `least`.
inline double integer(const json::object& body, std::string_view field, double fallback, double least) {
    const auto v = number(body, field);
    if (!v) return fallback;
    const double n = std::trunc(*v);
    if (n < least) bad(field, "must be at least " + std::to_string(static_cast<long long>(least)));
    return n;
}

inline std::size_t words(std::string_view s) {
    std::size_t n = 0;
    bool in_word = false;
    for (char c : s) {
        const bool space = c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
        if (!space && !in_word) ++n;
        in_word = !space;
    }
    return n;
}

}  // namespace detail

// Reads and checks a txt2img / img2img body; a bad field throws std::invalid_argument naming it.
inline Job read_job(const json::value& payload, Kind kind) {
    if (!payload.is_object()) throw std::invalid_argument("the payload must be a JSON object");
    const auto& body = payload.get_object();
    Job job;
    job.width = detail::integer(body, "width", 512, 1);
    job.height = detail::integer(body, "height", 512, 1);
    job.steps = detail::integer(body, "steps", 50, 1);
    job.batch_size = detail::integer(body, "batch_size", 1, 1);
    job.n_iter = detail::integer(body, "n_iter", 1, 1);
    if (const auto* p = body.if_contains("prompt"); p && !p->is_null()) {
        if (!p->is_string()) detail::bad("prompt", "must be a string");
        job.prompt_words = static_cast<double>(detail::words(p->get_string()));
    }
    const auto denoise = detail::number(body, "denoising_strength");
    if (denoise && *denoise < 0) detail::bad("denoising_strength", "must be at least 0");

    if (kind == Kind::img2img) {
        const auto* images = body.if_contains("init_images");
        if (images == nullptr || !images->is_array() || images->get_array().empty()) {
            detail::bad("init_images", "is required for img2img: a non-empty list of base64 images");
        }
        for (const auto& image : images->get_array()) {
            if (!image.is_string()) detail::bad("init_images", "must hold base64 image strings");
        }
        // A1111 caps the strength at 0.999 and samples int(strength x steps).
        job.sampled_steps = std::floor(std::min(denoise.value_or(0.75), 0.999) * job.steps);
        return job;
    }

    job.sampled_steps = job.steps;
    const auto* hr = body.if_contains("enable_hr");
    if (hr != nullptr && !hr->is_null() && !hr->is_bool()) detail::bad("enable_hr", "must be true or false");
    const double hr_x = detail::integer(body, "hr_resize_x", 0, 0);
    const double hr_y = detail::integer(body, "hr_resize_y", 0, 0);
    const double hr_steps = detail::integer(body, "hr_second_pass_steps", 0, 0);
    const double hr_scale = detail::number(body, "hr_scale").value_or(2.0);
    if (hr_scale <= 0) detail::bad("hr_scale", "must be greater than 0");
    if (hr != nullptr && hr->is_bool() && hr->get_bool()) {
        // A1111's target size: both resize sides, one of them (aspect kept), or the scale.
        double w = std::floor(job.width * hr_scale), h = std::floor(job.height * hr_scale);
        if (hr_x > 0 && hr_y > 0) {
            w = hr_x, h = hr_y;
        } else if (hr_x > 0) {
            w = hr_x, h = std::floor(hr_x * job.height / job.width);
        } else if (hr_y > 0) {
            h = hr_y, w = std::floor(hr_y * job.width / job.height);
        }
        job.hires_pixels = w * h;
        job.hires_steps = hr_steps > 0 ? hr_steps : job.steps;
    }
    return job;
}

// Vast's sdauto PyWorker (Gen 1): height x width x batch x steps + 1.33 x words(prompt), here over
// every image (batch_size x n_iter), with the steps actually sampled and the hires pass.
inline double raw_work(const Job& j) {
    const double images = j.batch_size * j.n_iter;
    return images * (j.width * j.height * j.sampled_steps + j.hires_pixels * j.hires_steps) + 1.33 * j.prompt_words;
}

// Normalised so one 512x512 image of 20 steps is 100, PyWorker's workload of a plain request.
inline constexpr double standard_image = 512.0 * 512.0 * 20.0;
inline double workload(const Job& j) { return 100.0 * raw_work(j) / standard_image; }

inline double workload(std::string_view payload, Kind kind) {
    boost::system::error_code ec;
    const json::value v = json::parse(payload, ec);
    if (ec) throw std::invalid_argument("the payload is not valid JSON: " + ec.message());
    return workload(read_job(v, kind));
}

// Benchmark request `index`: a small txt2img, 512x512 at 20 steps, its prompt and seed different
// for each index and the same on every run.
inline std::string benchmark_payload(uint32_t index) {
    return json::serialize(json::object{
        {"prompt", plugin_common::random_words(index, 12)},
        {"negative_prompt", "blurry, low quality"},
        {"seed", static_cast<int64_t>((uint64_t(index) * 2654435761u) % 4294967296u)},
        {"width", 512},
        {"height", 512},
        {"steps", 20},
        {"batch_size", 1},
        {"n_iter", 1},
        {"cfg_scale", 7},
        {"save_images", false},
    });
}

}  // namespace sdauto_plugin
