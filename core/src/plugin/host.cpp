#include "plugin/host.hpp"

#include "plugin/json_pointer.hpp"
#include "plugin/plugin_sink.hpp"
#include "upstream/relay_sink.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <string_view>

namespace cppworker::plugin {
namespace {

// cppw_host and cppw_metrics_sink stay incomplete types: the pointers the plugin holds are our
// objects' addresses, cast back here and nowhere else.
Host& self(cppw_host* h) { return *reinterpret_cast<Host*>(h); }
std::string_view sv(cppw_str s) { return s.data ? std::string_view(s.data, s.size) : std::string_view(); }

void log(cppw_host* h, cppw_log_level level, cppw_str message) {
    const auto& name = self(h).plugin_name();
    const auto text = sv(message);
    switch (level) {
    case CPPW_LOG_DEBUG: spdlog::debug("[{}] {}", name, text); break;
    case CPPW_LOG_INFO: spdlog::info("[{}] {}", name, text); break;
    case CPPW_LOG_WARN: spdlog::warn("[{}] {}", name, text); break;
    default: spdlog::error("[{}] {}", name, text); break;
    }
}

cppw_status config_get(cppw_host* h, cppw_str key, cppw_str* value) {
    if (value == nullptr || key.data == nullptr) return CPPW_INVALID_ARGUMENT;
    const std::string* found = self(h).config(sv(key));
    if (found == nullptr) return CPPW_NOT_FOUND;
    *value = cppw_str{found->data(), found->size()};
    return CPPW_OK;
}

constexpr std::size_t min_response_size = offsetof(cppw_response, body) + sizeof(cppw_str);

// A CR or LF would let a plugin split an HTTP message; refuse rather than send it.
bool valid_header(std::string_view name, std::string_view value) {
    return !name.empty() && name.find_first_of("\r\n: ") == std::string_view::npos &&
           value.find_first_of("\r\n") == std::string_view::npos;
}

bool to_answer(const cppw_response* r, uint32_t plugin_minor, requests::Answer& out) {
    if (r == nullptr || r->struct_size < min_response_size || r->status < 100 || r->status > 599) return false;
    if (r->header_count > 0 && r->headers == nullptr) return false;
    out.status = r->status;
    out.failed = plugin_minor >= 2 && (r->flags & CPPW_RESPONSE_FAILED) != 0;
    out.content_type = std::string(sv(r->content_type));
    if (out.content_type.empty()) out.content_type = "application/json";
    for (std::size_t i = 0; i < r->header_count; ++i) {
        const auto name = sv(r->headers[i].name);
        const auto value = sv(r->headers[i].value);
        if (!valid_header(name, value)) return false;
        out.headers.emplace_back(name, value);
    }
    out.body = std::string(sv(r->body));
    return true;
}

// Runs `op` on the live request `id`.
template <class Op>
cppw_status with_request(cppw_host* h, cppw_request_id id, Op op) {
    const auto request = self(h).registry().find(id);
    if (!request) {
        spdlog::warn("[{}] called the host for request {}, which is already completed", self(h).plugin_name(), id);
        return CPPW_UNKNOWN_REQUEST;
    }
    // A relayed request is the host's to answer.
    if (!request->plugin_may_answer()) return CPPW_WRONG_STATE;
    return op(*request);
}

cppw_status respond(cppw_host* h, cppw_request_id id, const cppw_response* response) {
    requests::Answer answer;
    if (!to_answer(response, self(h).plugin_abi_minor(), answer)) return CPPW_INVALID_ARGUMENT;
    return with_request(h, id, [&](requests::PendingRequest& r) { return r.respond(std::move(answer)); });
}

cppw_status stream_begin(cppw_host* h, cppw_request_id id, const cppw_response* head) {
    requests::Answer answer;
    if (!to_answer(head, self(h).plugin_abi_minor(), answer)) return CPPW_INVALID_ARGUMENT;
    return with_request(h, id, [&](requests::PendingRequest& r) { return r.stream_begin(std::move(answer)); });
}

cppw_status stream_write(cppw_host* h, cppw_request_id id, cppw_str chunk) {
    if (chunk.size > 0 && chunk.data == nullptr) return CPPW_INVALID_ARGUMENT;
    return with_request(h, id, [&](requests::PendingRequest& r) {
        return chunk.size == 0 ? CPPW_OK : r.stream_write(std::string(sv(chunk)));
    });
}

cppw_status stream_wait(cppw_host* h, cppw_request_id id, uint32_t timeout_ms) {
    return with_request(h, id, [&](requests::PendingRequest& r) {
        return r.stream_wait(std::chrono::milliseconds(timeout_ms));
    });
}

cppw_status stream_end(cppw_host* h, cppw_request_id id, cppw_status status) {
    return with_request(h, id, [&](requests::PendingRequest& r) { return r.stream_end(status); });
}

// 1 once the plugin can no longer answer the request usefully: given up, completed, or unknown.
int is_cancelled(cppw_host* h, cppw_request_id id) {
    const auto request = self(h).registry().find(id);
    return !request || request->cancelled() || request->completed() ? 1 : 0;
}

// Copies a plugin's forward into the host's own, or says why it cannot.
std::optional<upstream::UpstreamCall> to_call(const cppw_forward* f) {
    if (f == nullptr || f->struct_size < sizeof(cppw_forward)) return std::nullopt;
    if (f->method < CPPW_METHOD_GET || f->method > CPPW_METHOD_PATCH || f->mode > CPPW_FORWARD_CHUNKS) return std::nullopt;
    if (f->mode != CPPW_FORWARD_RELAY && f->on_done == nullptr) return std::nullopt;
    if ((f->header_count > 0 && f->headers == nullptr) || (f->body.size > 0 && f->body.data == nullptr)) {
        return std::nullopt;
    }
    const auto target = sv(f->target);
    // The request line must stay one token: no spaces or control characters.
    if (target.empty() || target[0] != '/' ||
        std::any_of(target.begin(), target.end(), [](unsigned char c) { return c <= 0x20 || c == 0x7f; })) {
        return std::nullopt;
    }
    upstream::UpstreamCall call{static_cast<cppw_method>(f->method), std::string(target),
                                std::string(sv(f->content_type)), {}, std::string(sv(f->body))};
    if (call.content_type.find_first_of("\r\n") != std::string::npos) return std::nullopt;
    for (std::size_t i = 0; i < f->header_count; ++i) {
        const auto name = sv(f->headers[i].name);
        const auto value = sv(f->headers[i].value);
        if (!valid_header(name, value)) return std::nullopt;
        call.headers.emplace_back(name, value);
    }
    return call;
}

// A forward of the plugin's own (ABI 1.3): no client, so nothing to relay to and nobody leaving;
// a request that is never completed stands in for one, and the forwarder's timeouts bound it.
cppw_status forward_own(Host& host, upstream::Forwarder& forwarder, const cppw_forward& f, upstream::UpstreamCall call) {
    if (f.mode == CPPW_FORWARD_RELAY) {
        spdlog::warn("[{}] a forward with no request cannot be relayed; refused", host.plugin_name());
        return CPPW_INVALID_ARGUMENT;
    }
    auto detached = std::make_shared<requests::PendingRequest>(CPPW_NO_REQUEST, 0);
    forwarder.start(std::move(detached), std::move(call), make_plugin_sink(f, CPPW_NO_REQUEST));
    return CPPW_OK;
}

cppw_status forward(cppw_host* h, cppw_request_id id, const cppw_forward* f) {
    auto& host = self(h);
    auto* forwarder = host.forwarder();
    if (forwarder == nullptr) return CPPW_UNSUPPORTED;
    auto call = to_call(f);
    if (!call) {
        spdlog::warn("[{}] request {}: malformed forward refused", host.plugin_name(), id);
        return CPPW_INVALID_ARGUMENT;
    }
    if (id == CPPW_NO_REQUEST && host.plugin_abi_minor() >= 3) return forward_own(host, *forwarder, *f, std::move(*call));
    auto request = host.registry().find(id);
    if (!request) return CPPW_UNKNOWN_REQUEST;
    if (!request->plugin_may_answer()) return CPPW_WRONG_STATE;
    if (request->cancelled()) return CPPW_CANCELLED;
    std::unique_ptr<upstream::AnswerSink> sink;
    if (f->mode == CPPW_FORWARD_RELAY) {
        if (const auto st = request->begin_relay(); st != CPPW_OK) return st;
        sink = upstream::make_relay_sink(request);
    } else {
        sink = make_plugin_sink(*f, id);
    }
    forwarder->start(std::move(request), std::move(*call), std::move(sink));
    return CPPW_OK;
}

bool valid_metric_name(std::string_view n) {
    if (n.empty() || (n[0] >= '0' && n[0] <= '9')) return false;
    for (char c : n) {
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
    }
    return true;
}

cppw_status attach_state(cppw_host* h, cppw_request_id id, void* request_state) {
    auto& registry = self(h).registry();
    if (!registry.releases_state()) return CPPW_UNSUPPORTED;
    const auto request = registry.find(id);
    if (!request) return CPPW_UNKNOWN_REQUEST;
    return request->attach_state(request_state);
}

cppw_status timer_start(cppw_host* h, cppw_request_id id, uint32_t delay_ms, cppw_timer_fn callback, void* user) {
    auto& host = self(h);
    if (callback == nullptr || id == CPPW_NO_REQUEST) {
        spdlog::warn("[{}] request {}: timer_start without a callback or a request refused", host.plugin_name(), id);
        return CPPW_INVALID_ARGUMENT;
    }
    const auto request = host.registry().find(id);
    if (!request) {
        spdlog::warn("[{}] asked for a timer for request {}, which is already completed", host.plugin_name(), id);
        return CPPW_UNKNOWN_REQUEST;
    }
    if (!request->plugin_may_answer()) return CPPW_WRONG_STATE;
    if (request->cancelled()) return CPPW_CANCELLED;
    auto* timers = host.timers();
    if (timers == nullptr) return CPPW_UNSUPPORTED;
    return timers->start(request, std::chrono::milliseconds(delay_ms), callback, user);
}

cppw_status metric(cppw_metrics_sink* sink, const cppw_metric* m) {
    if (sink == nullptr) return CPPW_INVALID_ARGUMENT;
    auto& s = *reinterpret_cast<MetricsSink*>(sink);
    if (m == nullptr || m->struct_size < offsetof(cppw_metric, value) + sizeof(double) ||
        m->type > CPPW_METRIC_GAUGE || !valid_metric_name(sv(m->name))) {
        spdlog::warn("plugin reported a malformed metric; skipped");
        return CPPW_INVALID_ARGUMENT;
    }
    const auto type = m->type == CPPW_METRIC_COUNTER ? metrics::PluginSample::Type::counter
                                                     : metrics::PluginSample::Type::gauge;
    s.samples.push_back(metrics::PluginSample{type, std::string(sv(m->name)),
                                     std::string(sv(m->help)), m->value});
    return CPPW_OK;
}

cppw_status payload(cppw_payload_sink* sink, cppw_str json) {
    if (sink == nullptr || (json.size > 0 && json.data == nullptr)) return CPPW_INVALID_ARGUMENT;
    reinterpret_cast<PayloadSink*>(sink)->json = std::string(sv(json));
    return CPPW_OK;
}

}  // namespace

Host::Host(std::string plugin_name, std::map<std::string, std::string, std::less<>> options,
           requests::RequestRegistry& registry)
    : plugin_name_(std::move(plugin_name)), registry_(registry), config_(std::move(options)) {
    services_ = cppw_host_services{sizeof(cppw_host_services),
                                   CPPW_ABI_MAJOR,
                                   CPPW_ABI_MINOR,
                                   reinterpret_cast<cppw_host*>(this),
                                   &plugin::log,
                                   &plugin::config_get,
                                   &plugin::respond,
                                   &plugin::stream_begin,
                                   &plugin::stream_write,
                                   &plugin::stream_wait,
                                   &plugin::stream_end,
                                   &plugin::is_cancelled,
                                   &plugin::forward,
                                   &plugin::metric,
                                   &plugin::payload,
                                   &plugin::json_get,
                                   &plugin::attach_state,
                                   &plugin::timer_start};
}

const std::string* Host::config(std::string_view key) {
    std::lock_guard lock(config_mutex_);
    if (const auto it = config_.find(key); it != config_.end()) return &it->second;
    const std::string name(key);
    const char* env = std::getenv(name.c_str());
    if (env == nullptr) return nullptr;
    return &config_.emplace(name, env).first->second;
}

}  // namespace cppworker::plugin
