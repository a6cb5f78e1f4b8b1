// The sdauto (AUTOMATIC1111) plugin's pure logic: body checks, A1111's defaults and the workload.
#include "sdauto/sdauto_logic.hpp"

#include <catch2/catch.hpp>

using namespace sdauto_plugin;
namespace json = boost::json;

namespace {

Job job(std::string_view body, Kind kind = Kind::txt2img) { return read_job(json::parse(body), kind); }
double work(std::string_view body, Kind kind = Kind::txt2img) { return workload(body, kind); }

}  // namespace

TEST_CASE("a 512x512 image of 20 steps is 100", "[sdauto]") {
    CHECK(work(R"({"width": 512, "height": 512, "steps": 20})") == Approx(100));
    CHECK(work(R"({"width": 1024, "height": 1024, "steps": 20})") == Approx(400));
    CHECK(work(R"({"width": 512, "height": 512, "steps": 40, "batch_size": 2, "n_iter": 3})") == Approx(1200));
}

TEST_CASE("A1111's API defaults: 512x512, 50 steps, one image", "[sdauto]") {
    const auto j = job("{}");
    CHECK(j.width == 512);
    CHECK(j.height == 512);
    CHECK(j.steps == 50);
    CHECK(j.batch_size == 1);
    CHECK(j.n_iter == 1);
    CHECK(work("{}") == Approx(250));
    CHECK(work(R"({"width": null, "steps": null})") == Approx(250));
}

TEST_CASE("the prompt's words add 1.33 each, as in Vast's sdauto worker", "[sdauto]") {
    const double base = 512.0 * 512 * 20;
    CHECK(job(R"({"prompt": "  a red   fox\n in snow "})").prompt_words == 5);
    CHECK(work(R"({"steps": 20, "prompt": "a red fox in snow"})") == Approx(100 * (base + 1.33 * 5) / base));
    CHECK_THROWS_WITH(work(R"({"prompt": ["a", "b"]})"), Catch::Contains("\"prompt\""));
}

TEST_CASE("numbers may come as numeric strings or floats, as pydantic takes them", "[sdauto]") {
    const auto j = job(R"({"width": "768", "height": 640.9, "steps": "+25"})");
    CHECK(j.width == 768);
    CHECK(j.height == 640);
    CHECK(j.steps == 25);
}

TEST_CASE("bad fields are refused naming the field", "[sdauto]") {
    CHECK_THROWS_WITH(work(R"({"width": "wide"})"), Catch::Contains("\"width\"") && Catch::Contains("number"));
    CHECK_THROWS_WITH(work(R"({"steps": true})"), Catch::Contains("\"steps\""));
    CHECK_THROWS_WITH(work(R"({"steps": 0})"), Catch::Contains("\"steps\" must be at least 1"));
    CHECK_THROWS_WITH(work(R"({"batch_size": -2})"), Catch::Contains("\"batch_size\""));
    CHECK_THROWS_WITH(work(R"({"n_iter": {}})"), Catch::Contains("\"n_iter\""));
    CHECK_THROWS_WITH(work(R"({"height": "1e999"})"), Catch::Contains("\"height\""));
    CHECK_THROWS_WITH(work(R"({"denoising_strength": -1})"), Catch::Contains("denoising_strength"));
    CHECK_THROWS_WITH(work(R"({"enable_hr": "yes"})"), Catch::Contains("enable_hr"));
    CHECK_THROWS_WITH(work(R"({"enable_hr": true, "hr_scale": 0})"), Catch::Contains("hr_scale"));
    CHECK_THROWS_WITH(work("[1]"), Catch::Contains("JSON object"));
    CHECK_THROWS_WITH(work("{"), Catch::Contains("not valid JSON"));
}

TEST_CASE("img2img needs init_images and samples steps x denoising_strength", "[sdauto]") {
    CHECK_THROWS_WITH(work("{}", Kind::img2img), Catch::Contains("init_images"));
    CHECK_THROWS_WITH(work(R"({"init_images": []})", Kind::img2img), Catch::Contains("init_images"));
    CHECK_THROWS_WITH(work(R"({"init_images": "abc"})", Kind::img2img), Catch::Contains("init_images"));
    CHECK_THROWS_WITH(work(R"({"init_images": [1]})", Kind::img2img), Catch::Contains("init_images"));
    // Default strength 0.75: int(0.75 x 20) = 15 steps.
    CHECK(job(R"({"init_images": ["iVBOR"], "steps": 20})", Kind::img2img).sampled_steps == 15);
    CHECK(work(R"({"init_images": ["iVBOR"], "steps": 20})", Kind::img2img) == Approx(75));
    CHECK(work(R"({"init_images": ["iVBOR"], "steps": 20, "denoising_strength": 0.5})", Kind::img2img) == Approx(50));
    // A1111 caps the strength at 0.999: int(0.999 x 20) = 19.
    CHECK(job(R"({"init_images": ["x"], "steps": 20, "denoising_strength": 3})", Kind::img2img).sampled_steps == 19);
    // txt2img ignores init_images and the strength (outside a hires pass).
    CHECK(work(R"({"steps": 20, "denoising_strength": 0.1})") == Approx(100));
}

TEST_CASE("a txt2img hires pass adds its own pixels and steps", "[sdauto]") {
    // First pass 512x512x20 (100), then 1024x1024 at 20 steps (400).
    CHECK(work(R"({"steps": 20, "enable_hr": true})") == Approx(500));
    // Every image of a batch gets its own hires pass.
    CHECK(work(R"({"steps": 20, "enable_hr": true, "batch_size": 2, "n_iter": 3})") == Approx(6 * 500));
    CHECK(work(R"({"steps": 20, "enable_hr": true, "hr_second_pass_steps": 10, "hr_scale": 1.5})") ==
          Approx(100 + 100.0 * 768 * 768 * 10 / (512.0 * 512 * 20)));
    // Resize to a width only keeps the aspect.
    const auto j = job(R"({"width": 512, "height": 256, "steps": 20, "enable_hr": true, "hr_resize_x": 1024})");
    CHECK(j.hires_pixels == 1024.0 * 512);
    CHECK(work(R"({"steps": 20, "enable_hr": false, "hr_scale": 4})") == Approx(100));
}

TEST_CASE("the benchmark is a small txt2img, different per index and stable across runs", "[sdauto]") {
    const auto body = json::parse(benchmark_payload(0)).as_object();
    CHECK(body.at("width").as_int64() == 512);
    CHECK(body.at("height").as_int64() == 512);
    CHECK(body.at("steps").as_int64() == 20);
    CHECK(body.at("prompt").as_string().size() > 10);
    CHECK(work(benchmark_payload(0)) == Approx(100).epsilon(0.001));
    // The same bytes in every process on every platform: written down once, not recomputed.
    CHECK(benchmark_payload(4) ==
          R"({"prompt":"story question kitchen quiet picture paper pencil rocket doctor family island history",)"
          R"("negative_prompt":"blurry, low quality","seed":2027808452,"width":512,"height":512,"steps":20,)"
          R"("batch_size":1,"n_iter":1,"cfg_scale":7,"save_images":false})");
    CHECK(benchmark_payload(4) != benchmark_payload(5));
    CHECK(json::parse(benchmark_payload(1)).at("seed") != json::parse(benchmark_payload(2)).at("seed"));
}
