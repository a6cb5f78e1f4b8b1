#include "payloads.hpp"

#include "common/random_words.hpp"
#include "openai/openai_logic.hpp"
#include "tgi/tgi_logic.hpp"

#include <boost/json.hpp>

#include <fmt/format.h>

namespace cppworker::load {
namespace json = boost::json;

std::optional<Backend> backend_named(std::string_view name) {
    if (name == "hello_world") return Backend::hello_world;
    if (name == "tgi") return Backend::tgi;
    if (name == "openai") return Backend::openai;
    if (name == "other") return Backend::other;
    return std::nullopt;
}

std::string default_path(Backend backend, bool stream) {
    switch (backend) {
    case Backend::hello_world: return "/generate";
    case Backend::tgi: return stream ? "/generate_stream" : "/generate";
    case Backend::openai: return "/v1/chat/completions";
    case Backend::other: return "";
    }
    return "";
}

double cost_of(Backend backend, std::string_view path, std::string_view body) {
    switch (backend) {
    case Backend::hello_world: {
        // hello_world's /generate costs the prompt's bytes; its other routes 1.
        if (path != "/generate") return 1;
        json::error_code ec;
        const auto v = json::parse(body, ec);
        const auto* prompt = !ec && v.is_object() ? v.get_object().if_contains("prompt") : nullptr;
        if (prompt == nullptr || !prompt->is_string()) throw std::invalid_argument("payload needs \"prompt\" as a string");
        return static_cast<double>(prompt->get_string().size());
    }
    case Backend::tgi: return tgi_plugin::workload(body);
    case Backend::openai: {
        const auto api = path.find("chat") != std::string_view::npos ? openai_plugin::Api::chat
                                                                     : openai_plugin::Api::completions;
        return openai_plugin::workload(openai_plugin::read_request(body, api));
    }
    case Backend::other: return 100;
    }
    return 100;
}

Payload generate(const GeneratorOptions& o, uint32_t index) {
    const std::string words = plugin_common::random_words(index, o.prompt_words);
    json::object body;
    switch (o.backend) {
    case Backend::hello_world: body = {{"prompt", words}}; break;
    case Backend::tgi: body = {{"inputs", words}, {"parameters", {{"max_new_tokens", o.max_tokens}}}}; break;
    case Backend::openai:
        body = {{"messages", json::array{json::object{{"role", "user"}, {"content", words}}}},
                {"max_tokens", o.max_tokens},
                {"stream", o.stream}};
        break;
    case Backend::other: throw std::invalid_argument("backend 'other' has no generator: give --payloads");
    }
    Payload p;
    p.path = default_path(o.backend, o.stream);
    p.body = json::serialize(body);
    p.cost = cost_of(o.backend, p.path, p.body);
    p.stream = o.stream && o.backend != Backend::hello_world;
    return p;
}

namespace {

// A payload asks for a stream when it says "stream": true or posts to a *_stream route.
bool wants_stream(const json::object& payload, std::string_view path) {
    const auto* s = payload.if_contains("stream");
    return (s != nullptr && s->is_bool() && s->get_bool()) || path.ends_with("_stream");
}

std::variant<Payload, std::string> read_line(std::string_view line, const FileOptions& o) {
    json::error_code ec;
    auto v = json::parse(line, ec);
    if (ec || !v.is_object()) return std::string("not a JSON object");
    auto& object = v.get_object();
    Payload p;
    p.path = o.default_path;
    std::optional<double> cost = o.fixed_cost;
    const json::value* payload = object.if_contains("payload");
    if (payload != nullptr) {
        if (!payload->is_object()) return std::string("\"payload\" must be an object");
        if (const auto* path = object.if_contains("path")) {
            if (!path->is_string() || !path->get_string().starts_with("/")) return std::string("\"path\" must start with /");
            p.path = std::string(path->get_string());
        }
        if (const auto* c = object.if_contains("cost")) {
            if (!c->is_number() || c->to_number<double>() < 0) return std::string("\"cost\" must be a number >= 0");
            cost = c->to_number<double>();
        }
    }
    const auto& body = payload != nullptr ? payload->get_object() : object;
    if (p.path.empty()) return std::string("no route: give \"path\" on the line, --path, or a known --backend");
    p.body = json::serialize(body);
    p.stream = wants_stream(body, p.path);
    if (const auto* s = object.if_contains("stream"); payload != nullptr && s != nullptr && s->is_bool()) {
        p.stream = s->get_bool();
    }
    try {
        p.cost = cost ? *cost : cost_of(o.backend, p.path, p.body);
    } catch (const std::exception& e) {
        return fmt::format("the worker would refuse it (422): {}", e.what());
    }
    return p;
}

}  // namespace

std::variant<std::vector<Payload>, std::string> read_payloads(std::string_view text, const FileOptions& o) {
    std::vector<Payload> out;
    int line_no = 0;
    while (!text.empty()) {
        ++line_no;
        const auto nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
        if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
        auto read = read_line(line, o);
        if (auto* error = std::get_if<std::string>(&read)) return fmt::format("line {}: {}", line_no, *error);
        out.push_back(std::move(std::get<Payload>(read)));
    }
    if (out.empty()) return std::string("no payloads: every line is empty");
    return out;
}

}  // namespace cppworker::load
