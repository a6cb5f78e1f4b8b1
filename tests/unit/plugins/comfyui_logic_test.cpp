// The ComfyUI plugin's pure logic: workflow sizing, PyWorker Gen 2's image tokens, payload checks,
// history entries and the benchmark workflow.
#include "comfyui/comfyui_logic.hpp"

#include <catch2/catch.hpp>

using namespace comfyui_plugin;
namespace json = boost::json;

namespace {

json::object parse_object(std::string_view text) { return json::parse(text).as_object(); }

// A txt2img workflow in ComfyUI's API format.
json::object txt2img(int width, int height, int steps, int batch) {
    return json::object{
        {"3", {{"class_type", "KSampler"}, {"inputs", {{"steps", steps}, {"seed", 1}, {"latent_image", json::array{"5", 0}}}}}},
        {"5", {{"class_type", "EmptyLatentImage"}, {"inputs", {{"width", width}, {"height", height}, {"batch_size", batch}}}}},
        {"9", {{"class_type", "SaveImage"}, {"inputs", {{"images", json::array{"8", 0}}}}}},
    };
}

}  // namespace

TEST_CASE("image tokens follow PyWorker Gen 2's formula, 1024x1024 at 28 steps being 200", "[comfyui]") {
    CHECK(image_tokens(1024, 1024, 28) == Approx((85 + 175 * 4) * (0.61 * 28 + 6.57)));
    CHECK(image_tokens(513, 512, 10) == Approx((85 + 175 * 2) * (0.61 * 10 + 6.57)));
    CHECK(image_workload(1024, 1024, 28, 1) == Approx(200));
    // 260 tokens x 18.77 against 785 x 23.65.
    CHECK(image_workload(512, 512, 20, 1) == Approx(200 * 260 * 18.77 / (785 * 23.65)));
    CHECK(image_workload(512, 512, 20, 1) == Approx(52.57).epsilon(0.001));
    CHECK(image_workload(1024, 1024, 28, 3) == Approx(600));
    // PyWorker's Flux normalisation: the standard image's 23 seconds as the scale.
    CHECK(image_workload(1024, 1024, 28, 1, 23) == Approx(4600));
}

TEST_CASE("a txt2img workflow is sized from its empty latent and sampler", "[comfyui]") {
    const auto s = size_workflow(txt2img(768, 512, 30, 2));
    REQUIRE(s);
    CHECK(s->width == 768);
    CHECK(s->height == 512);
    CHECK(s->steps == 30);
    CHECK(s->batch == 2);
    CHECK(workflow_workload(txt2img(768, 512, 30, 2)) == Approx(image_workload(768, 512, 30, 2)));
}

TEST_CASE("Flux-style workflows: steps on BasicScheduler, size on EmptySD3LatentImage", "[comfyui]") {
    const auto w = parse_object(R"({
      "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a cat"}},
      "13": {"class_type": "SamplerCustomAdvanced", "inputs": {"sigmas": ["17", 0], "latent_image": ["27", 0]}},
      "17": {"class_type": "BasicScheduler", "inputs": {"scheduler": "simple", "steps": 28, "denoise": 1}},
      "27": {"class_type": "EmptySD3LatentImage", "inputs": {"width": 1024, "height": 1024, "batch_size": 1}}
    })");
    const auto s = size_workflow(w);
    REQUIRE(s);
    CHECK(s->steps == 28);
    CHECK(workflow_workload(w) == Approx(200));
}

TEST_CASE("a refiner chain of KSamplerAdvanced counts the steps each one runs", "[comfyui]") {
    const auto w = parse_object(R"({
      "10": {"class_type": "KSamplerAdvanced", "inputs": {"steps": 25, "start_at_step": 0, "end_at_step": 20}},
      "11": {"class_type": "KSamplerAdvanced", "inputs": {"steps": 25, "start_at_step": 20, "end_at_step": 10000}},
      "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 1024, "height": 1024, "batch_size": 1}}
    })");
    CHECK(size_workflow(w)->steps == 25);
}

TEST_CASE("two passes add their steps, the largest latent and batch count", "[comfyui]") {
    auto w = txt2img(512, 512, 20, 1);
    w["20"] = json::object{{"class_type", "KSampler"}, {"inputs", {{"steps", 10}}}};
    w["21"] = json::object{{"class_type", "EmptyHunyuanLatentVideo"},
                           {"inputs", {{"width", 848}, {"height", 480}, {"length", 25}, {"batch_size", 3}}}};
    const auto s = size_workflow(w);
    REQUIRE(s);
    CHECK(s->steps == 30);
    CHECK(s->width == 848);
    CHECK(s->height == 480);
    CHECK(s->batch == 3);
}

TEST_CASE("a link to a primitive node is followed, other links keep PyWorker's defaults", "[comfyui]") {
    const auto w = parse_object(R"({
      "3": {"class_type": "KSampler", "inputs": {"steps": ["30", 0]}},
      "5": {"class_type": "EmptyLatentImage", "inputs": {"width": ["31", 0], "height": ["99", 0], "batch_size": 1}},
      "30": {"class_type": "PrimitiveInt", "inputs": {"value": 12}},
      "31": {"class_type": "PrimitiveInt", "inputs": {"value": 640}}
    })");
    const auto s = size_workflow(w);
    REQUIRE(s);
    CHECK(s->steps == 12);
    CHECK(s->width == 640);
    CHECK(s->height == 1024);
}

TEST_CASE("without sampler nodes the workload is PyWorker's constant 100", "[comfyui]") {
    const auto w = parse_object(R"({
      "9": {"class_type": "SaveImage", "inputs": {"images": ["10", 0]}},
      "10": {"class_type": "LoadImage", "inputs": {"image": "example.png"}}
    })");
    CHECK_FALSE(size_workflow(w));
    CHECK(workflow_workload(w) == 100);
    CHECK(workflow_workload(w, 2) == 200);
    CHECK(workflow_workload(json::object{}) == 100);
}

TEST_CASE("a sampler without an empty latent (img2img) is sized at 1024x1024", "[comfyui]") {
    const auto w = parse_object(R"({"3": {"class_type": "KSampler", "inputs": {"steps": 28, "latent_image": ["12", 0]}},
                                    "12": {"class_type": "VAEEncode", "inputs": {}}})");
    CHECK(workflow_workload(w) == Approx(200));
}

TEST_CASE("absurd sizes are clamped to ComfyUI's limits, junk nodes are skipped", "[comfyui]") {
    auto w = txt2img(1000000, 64, 1000000, 100000);
    w["junk"] = 5;
    w["no_class"] = json::object{{"inputs", json::object{}}};
    const auto s = size_workflow(w);
    REQUIRE(s);
    CHECK(s->width == 16384);
    CHECK(s->height == 64);
    CHECK(s->steps == 10000);
    CHECK(s->batch == 4096);

    const auto tall = size_workflow(txt2img(64, 1000000, 20, 1));
    REQUIRE(tall);
    CHECK(tall->width == 64);
    CHECK(tall->height == 16384);

    // And from below: no side under a pixel, no negative steps, at least one image.
    const auto tiny = size_workflow(txt2img(-5, 0, -3, 0));
    REQUIRE(tiny);
    CHECK(tiny->width == 1);
    CHECK(tiny->height == 1);
    CHECK(tiny->steps == 0);
    CHECK(tiny->batch == 1);

    // The wrapper's modifier path clamps alike.
    CHECK(wrapper_workload(std::string_view(R"({"input": {"modifier": "Text2Image", "modifications":)"
                                            R"( {"width": 1e9, "height": -1, "steps": 1e9, "batch_size": 0}}})")) ==
          Approx(image_workload(16384, 1, 10000, 1)));
}

TEST_CASE("the wrapper's payload needs an input object", "[comfyui]") {
    CHECK_THROWS_WITH(wrapper_workload(std::string_view(R"({"workflow_json": {}})")), Catch::Contains("\"input\""));
    CHECK_THROWS_WITH(wrapper_workload(std::string_view(R"({"input": [1]})")), Catch::Contains("\"input\""));
    CHECK_THROWS_WITH(wrapper_workload(std::string_view(R"({"input": {"workflow_json": "x"}})")),
                      Catch::Contains("workflow_json"));
    CHECK_THROWS_WITH(wrapper_workload(std::string_view(R"({"input": {"modifier": "Text2Image", "modifications": 3}})")),
                      Catch::Contains("modifications"));
    CHECK_THROWS_WITH(wrapper_workload(std::string_view(R"({"input": {"modifier": 7}})")), Catch::Contains("modifier"));
    CHECK_THROWS_WITH(wrapper_workload(std::string_view("[1, 2]")), Catch::Contains("JSON object"));
    CHECK_THROWS_WITH(wrapper_workload(std::string_view("{oops")), Catch::Contains("not valid JSON"));
}

TEST_CASE("the wrapper's payload is sized from its workflow or its modifier", "[comfyui]") {
    const std::string with_workflow =
        json::serialize(json::object{{"input", {{"request_id", "r1"}, {"workflow_json", txt2img(1024, 1024, 28, 2)}}}});
    CHECK(wrapper_workload(std::string_view(with_workflow)) == Approx(400));
    CHECK(wrapper_workload(std::string_view(
              R"({"input": {"modifier": "Text2Image", "modifications": {"width": 768, "height": 768, "steps": 30}}})")) ==
          Approx(image_workload(768, 768, 30, 1)));
    // The wrapper's Text2Image workflow: 1024x1024 at 20 steps.
    CHECK(wrapper_workload(std::string_view(R"({"input": {"modifier": "Text2Image"}})")) ==
          Approx(image_workload(1024, 1024, 20, 1)));
    // Neither: the wrapper refuses it itself; sized as the default.
    CHECK(wrapper_workload(std::string_view(R"({"input": {}})")) == 100);
    CHECK(wrapper_workload(std::string_view(R"({"input": {}})"), 3) == 300);
}

TEST_CASE("plain ComfyUI's payload needs a prompt object", "[comfyui]") {
    CHECK_THROWS_WITH(prompt_workload(std::string_view(R"({"workflow": {}})")), Catch::Contains("\"prompt\""));
    CHECK_THROWS_WITH(prompt_workload(std::string_view(R"({"prompt": "a cat"})")), Catch::Contains("\"prompt\""));
    const std::string body = json::serialize(json::object{{"prompt", txt2img(512, 512, 20, 1)}, {"client_id", "c"}});
    CHECK(prompt_workload(std::string_view(body)) == Approx(image_workload(512, 512, 20, 1)));
}

TEST_CASE("ComfyUI's answer to POST /prompt yields the prompt_id", "[comfyui]") {
    CHECK(prompt_id(R"({"prompt_id": "abc-1", "number": 3, "node_errors": {}})") == "abc-1");
    CHECK_FALSE(prompt_id(R"({"number": 3})"));
    CHECK_FALSE(prompt_id(R"({"prompt_id": ""})"));
    CHECK_FALSE(prompt_id("not json"));
}

TEST_CASE("view URLs escape their query values", "[comfyui]") {
    CHECK(view_url("", "ComfyUI_00001_.png", "", "output") == "/view?filename=ComfyUI_00001_.png&subfolder=&type=output");
    CHECK(view_url("http://h:8188/", "a b&c.png", "x/y", "temp") ==
          "http://h:8188/view?filename=a%20b%26c.png&subfolder=x%2Fy&type=temp");
}

TEST_CASE("history: empty until the prompt ran, then its entry with view URLs", "[comfyui]") {
    CHECK(read_history("{}", "p1", "").state == HistoryOutcome::State::pending);
    CHECK(read_history(R"({"other": {}})", "p1", "").state == HistoryOutcome::State::pending);
    CHECK(read_history("[]", "p1", "").state == HistoryOutcome::State::error);

    const auto done = read_history(R"({"p1": {
        "prompt": [0, "p1", {}, {}, ["9"]],
        "outputs": {"9": {"images": [{"filename": "ComfyUI_00001_.png", "subfolder": "", "type": "output"}]}},
        "status": {"status_str": "success", "completed": true, "messages": []}}})",
                                   "p1", "http://comfy:8188");
    REQUIRE(done.state == HistoryOutcome::State::success);
    const auto entry = json::parse(done.body).as_object();
    CHECK(entry.at("prompt_id") == "p1");
    const auto& image = entry.at("outputs").at("9").at("images").at(0).as_object();
    CHECK(image.at("filename") == "ComfyUI_00001_.png");
    CHECK(image.at("view") == "http://comfy:8188/view?filename=ComfyUI_00001_.png&subfolder=&type=output");
    CHECK(entry.at("status").at("completed") == true);
}

TEST_CASE("history: an entry ComfyUI failed to run is an error with its message", "[comfyui]") {
    const auto failed = read_history(R"({"p1": {"outputs": {}, "status": {"status_str": "error", "completed": false,
        "messages": [["execution_start", {"prompt_id": "p1"}],
                     ["execution_error", {"prompt_id": "p1", "node_id": "4", "node_type": "CheckpointLoaderSimple",
                                          "exception_type": "FileNotFoundError", "exception_message": "no such file"}]]}}})",
                                     "p1", "");
    CHECK(failed.state == HistoryOutcome::State::error);
    CHECK(failed.message == "node 4 (CheckpointLoaderSimple) raised FileNotFoundError: no such file");

    const auto interrupted = read_history(R"({"p1": {"status": {"status_str": "error", "messages":
        [["execution_interrupted", {"node_id": "3", "node_type": "KSampler"}]]}}})",
                                          "p1", "");
    CHECK(interrupted.state == HistoryOutcome::State::error);
    CHECK(interrupted.message == "execution interrupted at node 3 (KSampler)");
}

TEST_CASE("history: an entry without status (older ComfyUI) is a success", "[comfyui]") {
    CHECK(read_history(R"({"p1": {"outputs": {}}})", "p1", "").state == HistoryOutcome::State::success);
}

TEST_CASE("the benchmark is a 512x512, 20-step txt2img with a seed per index", "[comfyui]") {
    const auto a = json::parse(benchmark_payload(0, "model.safetensors")).as_object();
    const auto& workflow = a.at("input").at("workflow_json").as_object();
    const auto s = size_workflow(workflow);
    REQUIRE(s);
    CHECK(s->width == 512);
    CHECK(s->height == 512);
    CHECK(s->steps == 20);
    CHECK(s->batch == 1);
    CHECK(workflow.at("4").at("inputs").at("ckpt_name") == "model.safetensors");
    CHECK(wrapper_workload(std::string_view(benchmark_payload(0, "m"))) == Approx(image_workload(512, 512, 20, 1)));

    const auto seed = [](uint32_t i) {
        return json::parse(benchmark_payload(i, "m")).at("input").at("workflow_json").at("3").at("inputs").at("seed");
    };
    CHECK(seed(0) == seed(0));
    CHECK(seed(0) != seed(1));
    CHECK(benchmark_payload(2, "m") == benchmark_payload(2, "m"));
    CHECK(benchmark_payload(2, "m") != benchmark_payload(3, "m"));
}

TEST_CASE("a custom benchmark workflow gets a fresh seed per index", "[comfyui]") {
    const auto custom = parse_object(R"({"25": {"class_type": "RandomNoise", "inputs": {"noise_seed": 1}},
                                         "17": {"class_type": "BasicScheduler", "inputs": {"steps": 4}},
                                         "30": {"class_type": "KSampler", "inputs": {"seed": ["40", 0], "steps": 4}}})");
    const auto one = json::parse(benchmark_payload(1, "m", &custom)).at("input").at("workflow_json");
    const auto two = json::parse(benchmark_payload(2, "m", &custom)).at("input").at("workflow_json");
    CHECK(one.at("25").at("inputs").at("noise_seed") != two.at("25").at("inputs").at("noise_seed"));
    CHECK(one.at("30").at("inputs").at("seed") == json::array{"40", 0});  // links stay links
}
