// cppworker C++ SDK: a header-only layer over plugin.h.
//
// Derive from cppworker::Plugin, declare the routes, export with CPPWORKER_PLUGIN:
//
//   class Echo : public cppworker::Plugin {
//   public:
//       static constexpr cppw_route routes[] = {cppworker::route(CPPW_METHOD_POST, "/echo")};
//       using Plugin::Plugin;
//       void handle(const cppworker::Request& request, cppworker::Reply reply) override {
//           // The payload read through the host (ABI 1.3): no JSON library needed.
//           const std::string said = request.json("/said").as_string();
//           reply.json(200, "{\"said\": " + cppworker::json_quote(said) + "}");
//       }
//   };
//   CPPWORKER_PLUGIN(Echo, "echo", "1.0.0")
//
// The plugin object is constructed in `init` and destroyed in `finalize`, so its destructor is
// where threads are joined. Every hook is wrapped in a catch-all: an exception becomes an error
// status and message for the host, never an unwinding across the C ABI.
#ifndef CPPWORKER_PLUGIN_HPP
#define CPPWORKER_PLUGIN_HPP

#include <cppworker/plugin.h>

#include <atomic>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <functional>
#include <future>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace cppworker {

struct UpstreamRequest;
struct UpstreamAnswer;

namespace detail {
// The request whose `handle` hook runs on this thread; lets a Reply destroyed by an exception
// leave the answer to the hook's catch-all, which carries the exception's message.
inline thread_local cppw_request_id handling = 0;
struct TransformCalls;
struct FetchCalls;
struct TimerCalls;
}  // namespace detail

constexpr cppw_str view(std::string_view s) noexcept { return cppw_str{s.data(), s.size()}; }
constexpr std::string_view view(cppw_str s) noexcept { return std::string_view(s.data, s.size); }

struct RouteOptions {
    cppw_concurrency concurrency = CPPW_CONCURRENCY_PARALLEL;
    uint32_t limit = 0;
    bool blocking = false;
    double max_queue_time = -1.0;
};

constexpr cppw_route route(cppw_method method, const char* path, RouteOptions options = {}) noexcept {
    return cppw_route{sizeof(cppw_route),
                      static_cast<uint32_t>(method),
                      path,
                      static_cast<uint32_t>(options.concurrency),
                      options.limit,
                      options.blocking ? CPPW_ROUTE_BLOCKING : 0u,
                      options.max_queue_time};
}

// `text` as a JSON string literal, quoted and escaped, for answers a plugin writes itself:
// "{\"generated_text\": " + json_quote(text) + "}". UTF-8 passes as it is.
inline std::string json_quote(std::string_view text) {
    std::string out;
    out.reserve(text.size() + 2);
    out += '"';
    for (unsigned char c : text) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (c < 0x20) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", c);
                out += buf;
            } else {
                out += static_cast<char>(c);
            }
        }
    }
    out += '"';
    return out;
}

// JSON string body of {"error": message}, for error answers.
inline std::string json_error(std::string_view message) { return "{\"error\": " + json_quote(message) + "}"; }

// A JSON value that is not what the plugin needs; in `workload` this answers 422 with the message.
class JsonError : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
};

// The value at one place of a JSON text, read through the host's json_get (ABI 1.3), so that a
// C++ plugin needs no JSON library of its own: `r.json("/parameters/max_new_tokens").as_int()`.
// It views the text, so use it while the text lives (a request's payload: until the hook returns).
// Each Json parses the text again: read what you need once, in `workload`, and keep it
// (Request::keep). The as_*() readers throw JsonError naming the place and what is there instead:
//   payload needs "parameters/max_new_tokens" as an integer, not a string
//   payload needs "prompt" as a string; it is missing
class Json {
public:
    // The value at `pointer` (RFC 6901: "" the whole text, "/parameters/max_new_tokens", "/prompts/0")
    // in `text`; `what` names the text in messages. Throws JsonError when the host has no json_get
    // (older than ABI 1.3), the pointer is malformed, or `text` is not JSON. An empty text (the
    // payload of a GET without a body) holds nothing: every value in it is missing.
    Json(const cppw_host_services* services, std::string_view text, std::string pointer, std::string what = "payload")
        : services_(services), text_(text), pointer_(std::move(pointer)), what_(std::move(what)) {
        value_.struct_size = sizeof value_;
        value_.type = CPPW_JSON_MISSING;
        if (services_ == nullptr || !CPPW_HAS_SERVICE(services_, json_get)) {
            throw JsonError("reading JSON needs a worker with ABI 1.3 (json_get)");
        }
        if (!valid_pointer(pointer_)) throw JsonError("\"" + pointer_ + "\" is not a JSON pointer (RFC 6901)");
        if (text_.find_first_not_of(" \t\r\n") == std::string_view::npos) return;
        if (services_->json_get(cppw_str{text_.data(), text_.size()}, cppw_str{pointer_.data(), pointer_.size()},
                                &value_, nullptr, 0) != CPPW_OK) {
            throw JsonError(what_ + " is not JSON");
        }
    }

    cppw_json_type type() const noexcept { return static_cast<cppw_json_type>(value_.type); }
    bool is_missing() const noexcept { return value_.type == CPPW_JSON_MISSING; }
    bool is_null() const noexcept { return value_.type == CPPW_JSON_NULL; }
    bool is_bool() const noexcept { return value_.type == CPPW_JSON_BOOL; }
    bool is_number() const noexcept { return value_.type == CPPW_JSON_NUMBER; }
    // A whole number within int64_t.
    bool is_int() const noexcept { return is_number() && value_.is_integer != 0; }
    bool is_string() const noexcept { return value_.type == CPPW_JSON_STRING; }
    bool is_array() const noexcept { return value_.type == CPPW_JSON_ARRAY; }
    bool is_object() const noexcept { return value_.type == CPPW_JSON_OBJECT; }

    bool as_bool() const {
        if (!is_bool()) wrong("true or false");
        return value_.boolean != 0;
    }
    int64_t as_int() const {
        if (!is_int()) wrong("an integer");
        return value_.integer;
    }
    double as_double() const {
        if (!is_number()) wrong("a number");
        return value_.number;
    }
    // Unescaped UTF-8; a \u0000 in it is a NUL byte like any other.
    std::string as_string() const {
        if (!is_string()) wrong("a string");
        return read_text();
    }
    // The value as compact JSON text (a string quoted again), to pass on as it is.
    std::string text() const {
        if (is_missing()) throw JsonError(where() + " is missing");
        return is_string() ? json_quote(read_text()) : read_text();
    }
    // The same, with `fallback` when the value is missing (but not when it is of another type).
    bool as_bool_or(bool fallback) const { return is_missing() ? fallback : as_bool(); }
    int64_t as_int_or(int64_t fallback) const { return is_missing() ? fallback : as_int(); }
    double as_double_or(double fallback) const { return is_missing() ? fallback : as_double(); }
    std::string as_string_or(std::string_view fallback) const {
        return is_missing() ? std::string(fallback) : as_string();
    }

    // A member or an element of this value, read from the same text.
    Json operator[](std::string_view member) const {
        std::string pointer = pointer_ + "/";
        for (const char c : member) pointer += c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
        return Json(services_, text_, std::move(pointer), what_);
    }
    Json operator[](std::size_t index) const {
        return Json(services_, text_, pointer_ + "/" + std::to_string(index), what_);
    }

    const std::string& pointer() const noexcept { return pointer_; }

private:
    static bool valid_pointer(std::string_view p) noexcept {
        if (!p.empty() && p[0] != '/') return false;
        for (std::size_t i = 0; i < p.size(); ++i) {
            if (p[i] == '~' && (i + 1 == p.size() || (p[i + 1] != '0' && p[i + 1] != '1'))) return false;
        }
        return true;
    }
    std::string where() const { return pointer_.empty() ? what_ : what_ + " field \"" + pointer_.substr(1) + "\""; }
    [[noreturn]] void wrong(const char* wanted) const {
        std::string message = pointer_.empty() ? what_ + " needs to be " + wanted
                                               : what_ + " needs \"" + pointer_.substr(1) + "\" as " + wanted;
        switch (value_.type) {
        case CPPW_JSON_MISSING: message += text_.empty() ? "; it is empty" : "; it is missing"; break;
        case CPPW_JSON_NULL: message += ", not null"; break;
        case CPPW_JSON_BOOL: message += ", not a boolean"; break;
        case CPPW_JSON_NUMBER: {
            char shortest[32];
            const auto end = std::to_chars(shortest, shortest + sizeof shortest, value_.number).ptr;
            message += ", not " + std::string(shortest, end);
            break;
        }
        case CPPW_JSON_STRING: message += ", not a string"; break;
        case CPPW_JSON_ARRAY: message += ", not an array"; break;
        default: message += ", not an object"; break;
        }
        throw JsonError(message);
    }
    std::string read_text() const {
        std::string out(value_.text_size, '\0');
        cppw_json_value again{};
        again.struct_size = sizeof again;
        // Room for the NUL the host writes after the text: std::string keeps one past size().
        services_->json_get(cppw_str{text_.data(), text_.size()}, cppw_str{pointer_.data(), pointer_.size()}, &again,
                            out.data(), out.size() + 1);
        return out;
    }

    const cppw_host_services* services_;
    std::string_view text_;
    std::string pointer_;
    std::string what_;
    cppw_json_value value_{};
};

// The host's services, as lent to the plugin for its whole life.
class Host {
public:
    explicit Host(const cppw_host_services* services) noexcept : services_(services) {}

    void log(cppw_log_level level, std::string_view message) const noexcept {
        services_->log(services_->host, level, view(message));
    }
    void debug(std::string_view m) const noexcept { log(CPPW_LOG_DEBUG, m); }
    void info(std::string_view m) const noexcept { log(CPPW_LOG_INFO, m); }
    void warn(std::string_view m) const noexcept { log(CPPW_LOG_WARN, m); }
    void error(std::string_view m) const noexcept { log(CPPW_LOG_ERROR, m); }

    // Valid until finalize; see cppw_host_services::config_get.
    std::optional<std::string_view> config(std::string_view key) const noexcept {
        cppw_str value{};
        if (services_->config_get(services_->host, view(key), &value) != CPPW_OK) return std::nullopt;
        return view(value);
    }
    std::string config_or(std::string_view key, std::string_view fallback) const {
        return std::string(config(key).value_or(fallback));
    }

    uint16_t abi_minor() const noexcept { return services_->abi_minor; }
    const cppw_host_services* services() const noexcept { return services_; }

    // The value at `pointer` in a JSON text of the plugin's own (a model server's answer, say);
    // see Json. `what` names the text in error messages.
    Json json(std::string_view text, std::string pointer = "", std::string what = "JSON") const {
        return Json(services_, text, std::move(pointer), std::move(what));
    }

    // A request of the plugin's own to the model server, belonging to no client request (ABI 1.3):
    // an interrupt from `cancel`, a queue delete, a health poke. `then` runs once, on an I/O
    // thread, with the whole answer or why there is none (CPPW_UNSUPPORTED before ABI 1.3).
    void fetch(const UpstreamRequest& request, std::function<void(UpstreamAnswer)> then) const;

private:
    const cppw_host_services* services_;
};

namespace detail {
// What Request::keep holds: any type, move-only ones too, told apart without RTTI.
struct KeptBase {
    explicit KeptBase(const void* t) noexcept : type(t) {}
    virtual ~KeptBase() = default;
    const void* const type;
};
template <class T>
struct KeptValue final : KeptBase {
    static inline const char tag = 0;
    explicit KeptValue(T v) : KeptBase(&tag), value(std::move(v)) {}
    T value;
};
}  // namespace detail

// A request as handed to `workload` and `handle`. The views die when the hook returns.
struct Request {
    cppw_request_id id;
    uint32_t route_index;
    std::string_view path;
    std::string_view query;
    std::string_view payload;
    std::string_view session_id;

    // The payload's value at `pointer` ("/parameters/max_new_tokens"), read through the host
    // (see Json): `r.json("/amount").as_int()` throws JsonError with a message fit for a 422.
    Json json(std::string pointer = "") const { return Json(services_, payload, std::move(pointer), "payload"); }

    // In `workload`: keep `value` (what you read from the payload) for `handle`, so the payload is
    // read once. Any type, move-only ones too (std::unique_ptr). A request refused in between frees
    // it. Needs a host of ABI 1.3; an older one drops it, and `handle` finds nothing.
    template <class T>
    void keep(T value) const {
        kept_ = std::make_shared<detail::KeptValue<T>>(std::move(value));
    }
    // In `handle`: what `workload` kept, yours to move from; nullptr when nothing of type T was kept.
    template <class T>
    T* kept() const noexcept {
        if (!kept_ || kept_->type != &detail::KeptValue<T>::tag) return nullptr;
        return &static_cast<detail::KeptValue<T>*>(kept_.get())->value;
    }

    static Request from(const cppw_request_info& info, const cppw_host_services* services = nullptr) noexcept {
        return Request{info.id,           info.route_index, view(info.path), view(info.query), view(info.payload),
                       view(info.session_id), nullptr,      services};
    }

    mutable std::shared_ptr<detail::KeptBase> kept_ = nullptr;  // carried across the C ABI by the SDK
    const cppw_host_services* services_ = nullptr;              // for json()
};

struct Header {
    std::string_view name;
    std::string_view value;
};

// A request to the model server (see cppw_forward). The views need only outlive the call.
struct UpstreamRequest {
    cppw_method method = CPPW_METHOD_POST;
    std::string_view target = {};        // "/generate"; appended to the model server's base URL
    std::string_view body = {};
    std::string_view content_type = {};  // empty: application/json
    std::vector<Header> headers = {};
};

// The model server's status and headers.
struct UpstreamHead {
    uint16_t status = 0;
    bool streaming = false;
    std::string content_type;
    std::vector<std::pair<std::string, std::string>> headers;

    // The first header of that name (any case); empty when absent.
    std::string header(std::string_view name) const {
        for (const auto& [n, v] : headers) {
            if (n.size() != name.size()) continue;
            bool same = true;
            for (size_t i = 0; i < n.size() && same; ++i) {
                same = std::tolower(static_cast<unsigned char>(n[i])) == std::tolower(static_cast<unsigned char>(name[i]));
            }
            if (same) return v;
        }
        return {};
    }

    static UpstreamHead from(const cppw_upstream_head& h) {
        UpstreamHead out{h.status, h.streaming != 0, std::string(view(h.content_type)), {}};
        for (size_t i = 0; i < h.header_count; ++i) {
            out.headers.emplace_back(view(h.headers[i].name), view(h.headers[i].value));
        }
        return out;
    }
};

// How a forward ended: CPPW_OK (whatever the HTTP status), or why it failed.
struct UpstreamResult {
    cppw_status status = CPPW_OK;
    std::string message;

    bool ok() const noexcept { return status == CPPW_OK; }
    // The status the worker answers a failed forward with.
    uint16_t http_status() const noexcept {
        return status == CPPW_UPSTREAM_TIMEOUT ? 504 : status == CPPW_UPSTREAM_UNREACHABLE ? 502 : 500;
    }
};

// A whole answer from the model server, as Reply::fetch delivers it.
struct UpstreamAnswer {
    UpstreamResult result;
    UpstreamHead head;  // status 0 when no answer came
    std::string body;
};

class Reply;

namespace detail {

// The timers started through Reply::after, by token: the host hands the token back to
// TimerCalls::fire, which finds the function here. A request completed through its Reply drops
// its timers, for which the host, once the request is completed, never calls back (timer_start).
class TimerTable {
public:
    using Then = std::function<void(cppw_status)>;
    struct Entry {
        Host host;
        cppw_request_id request;
        Then then;
    };

    uintptr_t add(const Host& host, cppw_request_id request, Then then) {
        std::lock_guard lock(mutex_);
        const uintptr_t token = next_++;
        by_token_.emplace(token, Entry{host, request, std::move(then)});
        by_request_[request].push_back(token);
        size_.store(by_token_.size());
        return token;
    }
    // The entry of `token`, gone from the table; nothing when it was dropped.
    std::optional<Entry> take(uintptr_t token) {
        std::lock_guard lock(mutex_);
        const auto it = by_token_.find(token);
        if (it == by_token_.end()) return std::nullopt;
        std::optional<Entry> out(std::move(it->second));
        by_token_.erase(it);
        auto& tokens = by_request_[out->request];
        std::erase(tokens, token);
        if (tokens.empty()) by_request_.erase(out->request);
        size_.store(by_token_.size());
        return out;
    }
    // `request` was completed: its functions are destroyed unrun.
    void drop(cppw_request_id request) noexcept {
        if (size_.load() == 0) return;
        std::vector<Then> dropped;
        {
            std::lock_guard lock(mutex_);
            const auto it = by_request_.find(request);
            if (it == by_request_.end()) return;
            for (const auto token : it->second) {
                const auto entry = by_token_.find(token);
                dropped.push_back(std::move(entry->second.then));
                by_token_.erase(entry);
            }
            by_request_.erase(it);
            size_.store(by_token_.size());
        }
    }
    // finalize: nothing will be called back any more.
    void clear() noexcept {
        std::unordered_map<uintptr_t, Entry> dropped;
        std::lock_guard lock(mutex_);
        dropped.swap(by_token_);
        by_request_.clear();
        size_.store(0);
    }

private:
    std::mutex mutex_;
    std::atomic<std::size_t> size_{0};
    uintptr_t next_ = 1;
    std::unordered_map<uintptr_t, Entry> by_token_;
    std::unordered_map<cppw_request_id, std::vector<uintptr_t>> by_request_;
};

// One table per plugin: the shared object's symbols are its own (hidden visibility).
inline TimerTable& timer_table() {
    static TimerTable table;
    return table;
}

}  // namespace detail

// Rewrites the model server's answer into the client's (see Reply::transform). Each call runs on
// a host I/O thread, one at a time, and must not block.
class Transform {
public:
    virtual ~Transform() = default;
    virtual void head(Reply&, const UpstreamHead&) {}
    // The whole body (Reply::transform with chunks = false) or each piece as it arrives.
    virtual void data(Reply& reply, std::string_view data) = 0;
    // Last. The default answers a failed forward with 502 / 504 (or cuts a begun stream short); a
    // Reply still open after done() answers 500 when it is dropped.
    virtual void done(Reply& reply, const UpstreamResult& result);
};

// The right and the duty to answer one request. Move it wherever the answer is produced (another
// thread, a callback). An answer is sent once; a Reply destroyed without one answers 500, so a
// request is never left hanging (when `handle` itself throws, the host answers 500 with the
// exception's message instead).
class Reply {
public:
    Reply(Host host, cppw_request_id id) noexcept : host_(host), id_(id), open_(true) {}
    Reply(Reply&& other) noexcept
        : host_(other.host_), id_(other.id_), open_(std::exchange(other.open_, false)), streaming_(other.streaming_) {}
    Reply& operator=(Reply&& other) noexcept {
        if (this != &other) {
            abandon();
            host_ = other.host_;
            id_ = other.id_;
            open_ = std::exchange(other.open_, false);
            streaming_ = other.streaming_;
        }
        return *this;
    }
    Reply(const Reply&) = delete;
    Reply& operator=(const Reply&) = delete;
    ~Reply() { abandon(); }

    cppw_request_id id() const noexcept { return id_; }
    bool open() const noexcept { return open_; }
    bool cancelled() const noexcept {
        return host_.services()->is_cancelled(host_.services()->host, id_) != 0;
    }

    cppw_status send(uint16_t status, std::string_view content_type, std::string_view body,
                     std::initializer_list<Header> headers = {}) noexcept {
        return send_flagged(status, content_type, body, 0, headers);
    }
    cppw_status json(uint16_t status, std::string_view body) noexcept {
        return send(status, "application/json", body);
    }
    cppw_status error(uint16_t status, std::string_view message) {
        return json(status, json_error(message));
    }
    // An answer the worker counts as a failed request (CPPW_RESPONSE_FAILED), e.g. the model
    // server's own account of a job that failed.
    cppw_status send_failed(uint16_t status, std::string_view content_type, std::string_view body) noexcept {
        return send_flagged(status, content_type, body, CPPW_RESPONSE_FAILED);
    }
    cppw_status fail(uint16_t status, std::string_view message) {
        return send_failed(status, "application/json", json_error(message));
    }
    // Answers a failed forward as the host would: 502 / 504, or a stream cut short.
    cppw_status fail(const UpstreamResult& result) {
        if (streaming_) return end(CPPW_ERROR);
        return fail(result.http_status(), result.message);
    }

    // Hands the request to the model server; the host relays its answer to the client, streamed
    // when it streams, and completes the request. On CPPW_OK this Reply is spent.
    cppw_status forward(const UpstreamRequest& request) noexcept {
        if (!open_) return CPPW_UNKNOWN_REQUEST;
        const auto c_headers = to_c(request.headers);
        auto f = make_forward(request, c_headers, CPPW_FORWARD_RELAY);
        const cppw_status st = call_forward(f);
        if (st == CPPW_OK) {
            open_ = false;
            completed(id_);
        }
        return st;
    }

    // Sends the request to the model server and gives its answer to `transform`, which answers
    // the client through the Reply it is handed: the whole body at once, or with `chunks` each piece
    // as it arrives. This Reply is moved into the transform's keeping; transform->done() runs
    // exactly once, at once if the forward could not start.
    void transform(const UpstreamRequest& request, std::unique_ptr<Transform> transform, bool chunks);

    // Sends a request to the model server on this request's behalf and calls `then` with the whole
    // answer, on a host I/O thread (or at once, if it could not be sent). The request stays open;
    // when its client leaves, the fetch is abandoned with CPPW_CANCELLED.
    void fetch(const UpstreamRequest& request, std::function<void(UpstreamAnswer)> then) const;
    // The same, waiting for the answer: only from your own threads or blocking routes.
    UpstreamAnswer fetch_wait(const UpstreamRequest& request) const {
        auto done = std::make_shared<std::promise<UpstreamAnswer>>();
        auto answer = done->get_future();
        fetch(request, [done](UpstreamAnswer a) { done->set_value(std::move(a)); });
        return answer.get();
    }

    // Waits without a thread (ABI 1.4, timer_start): calls `then` once `delay` has passed, on
    // this request's event loop (never inside this call), with CPPW_OK; or with CPPW_CANCELLED as
    // soon as the worker gives the request up (complete it there: the answer is dropped). When
    // the request is completed first, through this Reply or the one `then` holds, `then` never
    // runs and is destroyed. Keep the Reply where `then` can reach it (a shared_ptr it captures).
    // Returns CPPW_OK, or why no timer started, `then` destroyed unrun: CPPW_UNSUPPORTED on a
    // host older than ABI 1.4, CPPW_INVALID_ARGUMENT for a delay outside 0..2^32-1 ms, or what
    // timer_start returns (CPPW_CANCELLED: the client has left).
    cppw_status after(std::chrono::milliseconds delay, std::function<void(cppw_status)> then) const;

    cppw_status begin_stream(uint16_t status, std::string_view content_type,
                             std::initializer_list<Header> headers = {}) noexcept {
        if (!open_) return CPPW_UNKNOWN_REQUEST;
        const auto c_headers = to_c(headers);
        const cppw_response head = make(status, content_type, c_headers, {});
        const cppw_status st = host_.services()->stream_begin(host_.services()->host, id_, &head);
        streaming_ = streaming_ || st == CPPW_OK || st == CPPW_CANCELLED;
        return st;
    }
    cppw_status write(std::string_view chunk) noexcept {
        if (!open_) return CPPW_UNKNOWN_REQUEST;
        return host_.services()->stream_write(host_.services()->host, id_, view(chunk));
    }
    // Blocks: only from your own threads or blocking routes.
    cppw_status wait_writable(std::chrono::milliseconds timeout) noexcept {
        if (!open_) return CPPW_UNKNOWN_REQUEST;
        return host_.services()->stream_wait(host_.services()->host, id_,
                                             static_cast<uint32_t>(timeout.count()));
    }
    cppw_status end(cppw_status status = CPPW_OK) noexcept {
        if (!open_) return CPPW_UNKNOWN_REQUEST;
        open_ = false;
        const auto id = id_;
        const cppw_status st = host_.services()->stream_end(host_.services()->host, id, status);
        completed(id);
        return st;
    }

private:
    cppw_status send_flagged(uint16_t status, std::string_view content_type, std::string_view body, uint16_t flags,
                             std::initializer_list<Header> headers = {}) noexcept {
        if (!open_) return CPPW_UNKNOWN_REQUEST;
        open_ = false;
        const auto c_headers = to_c(headers);
        cppw_response response = make(status, content_type, c_headers, body);
        // A host older than 1.2 reads this field as reserved, so only a 1.2 host gets flags.
        if (host_.abi_minor() >= 2) response.flags = flags;
        const auto id = id_;
        const cppw_status st = host_.services()->respond(host_.services()->host, id, &response);
        completed(id);
        return st;
    }
    // The request is the plugin's no more: its timers will never call back. Last in a member
    // function, as it may destroy a function that owns this Reply.
    static void completed(cppw_request_id id) noexcept { detail::timer_table().drop(id); }
    // Empty lists, the common case, allocate nothing.
    template <class Headers>
    static std::vector<cppw_header> to_c(const Headers& headers) {
        std::vector<cppw_header> out;
        out.reserve(headers.size());
        for (const auto& h : headers) out.push_back(cppw_header{view(h.name), view(h.value)});
        return out;
    }
    static cppw_response make(uint16_t status, std::string_view content_type, const std::vector<cppw_header>& headers,
                              std::string_view body) noexcept {
        return cppw_response{sizeof(cppw_response), status, 0, view(content_type), headers.data(), headers.size(),
                             view(body)};
    }
    static cppw_forward make_forward(const UpstreamRequest& r, const std::vector<cppw_header>& headers,
                                     cppw_forward_mode mode) noexcept {
        return cppw_forward{sizeof(cppw_forward), static_cast<uint32_t>(r.method), view(r.target),
                            view(r.content_type), headers.data(), headers.size(), view(r.body),
                            static_cast<uint32_t>(mode), 0, nullptr, nullptr, nullptr, nullptr};
    }
    cppw_status call_forward(const cppw_forward& f) const noexcept {
        const auto* s = host_.services();
        if (host_.abi_minor() < 2 || s->forward == nullptr) return CPPW_UNSUPPORTED;
        return s->forward(s->host, id_, &f);
    }
    static std::string forward_refused(cppw_status st) {
        return st == CPPW_UNSUPPORTED ? "this worker cannot forward to a model server (host ABI older than 1.2)"
                                      : "could not forward the request to the model server (status " +
                                            std::to_string(static_cast<int>(st)) + ")";
    }
    friend struct detail::TransformCalls;
    friend struct detail::FetchCalls;
    void abandon() noexcept {
        if (!open_) return;
        if (std::uncaught_exceptions() > 0 && detail::handling == id_) return;
        if (streaming_) {
            host_.warn("stream dropped without end(); cutting it short");
            end(CPPW_ERROR);
            return;
        }
        host_.warn("request dropped without an answer; answering 500");
        send(500, "application/json", "{\"error\": \"the plugin dropped the request\"}");
    }

    Host host_;
    cppw_request_id id_;
    bool open_;
    bool streaming_ = false;
};

namespace detail {

// The C callbacks behind Reply::transform: `user` is a heap Job that on_done deletes.
struct TransformCalls {
    struct Job {
        Reply reply;
        std::unique_ptr<Transform> transform;
    };
    // A transform that throws answers 500 (or cuts its stream); the host then abandons the forward.
    static void contain(Job& job) noexcept {
        try {
            throw;
        } catch (const std::exception& e) {
            job.reply.fail(UpstreamResult{CPPW_ERROR, std::string("the plugin's transform failed: ") + e.what()});
        } catch (...) {
            job.reply.fail(UpstreamResult{CPPW_ERROR, "the plugin's transform failed"});
        }
    }
    static void on_head(void* user, cppw_request_id, const cppw_upstream_head* head) noexcept {
        auto& job = *static_cast<Job*>(user);
        if (!job.reply.open()) return;
        try {
            job.transform->head(job.reply, UpstreamHead::from(*head));
        } catch (...) {
            contain(job);
        }
    }
    static void on_data(void* user, cppw_request_id, cppw_str data) noexcept {
        auto& job = *static_cast<Job*>(user);
        if (!job.reply.open()) return;
        try {
            job.transform->data(job.reply, view(data));
        } catch (...) {
            contain(job);
        }
    }
    static void on_done(void* user, cppw_request_id, cppw_status status, cppw_str message) noexcept {
        std::unique_ptr<Job> job(static_cast<Job*>(user));
        try {
            job->transform->done(job->reply, UpstreamResult{status, std::string(view(message))});
        } catch (...) {
            contain(*job);
        }
    }
};

// The C callbacks behind Reply::fetch.
struct FetchCalls {
    struct Job {
        Host host;
        std::function<void(UpstreamAnswer)> then;
        UpstreamAnswer answer;
    };
    static void on_head(void* user, cppw_request_id, const cppw_upstream_head* head) noexcept {
        auto& job = *static_cast<Job*>(user);
        try {
            job.answer.head = UpstreamHead::from(*head);
        } catch (...) {
        }
    }
    static void on_data(void* user, cppw_request_id, cppw_str data) noexcept {
        auto& job = *static_cast<Job*>(user);
        try {
            job.answer.body.append(view(data));
        } catch (...) {
        }
    }
    static void finish(Job& job, cppw_status status, std::string_view message) noexcept {
        try {
            job.answer.result = UpstreamResult{status, std::string(message)};
            job.then(std::move(job.answer));
        } catch (...) {
            job.host.error("a fetch callback threw; its exception is dropped");
        }
    }
    static void on_done(void* user, cppw_request_id, cppw_status status, cppw_str message) noexcept {
        std::unique_ptr<Job> job(static_cast<Job*>(user));
        finish(*job, status, view(message));
    }
    static void start(const Host& host, cppw_request_id id, const UpstreamRequest& request,
                      std::function<void(UpstreamAnswer)> then) {
        auto job = std::make_unique<Job>(Job{host, std::move(then), {}});
        const auto c_headers = Reply::to_c(request.headers);
        auto f = Reply::make_forward(request, c_headers, CPPW_FORWARD_BODY);
        f.user = job.get();
        f.on_head = &on_head;
        f.on_data = &on_data;
        f.on_done = &on_done;
        const auto* s = host.services();
        // Before ABI 1.3 a forward needs a live client request.
        const uint16_t needs = id == CPPW_NO_REQUEST ? 3 : 2;
        const cppw_status st = host.abi_minor() < needs || s->forward == nullptr ? CPPW_UNSUPPORTED
                                                                                   : s->forward(s->host, id, &f);
        if (st == CPPW_OK) {
            (void)job.release();
            return;
        }
        finish(*job, st, Reply::forward_refused(st));
    }
};

}  // namespace detail

inline void Transform::done(Reply& reply, const UpstreamResult& result) {
    if (!result.ok() && reply.open()) reply.fail(result);
}

inline void Reply::transform(const UpstreamRequest& request, std::unique_ptr<Transform> transform, bool chunks) {
    using Calls = detail::TransformCalls;
    auto job = std::make_unique<Calls::Job>(Calls::Job{std::move(*this), std::move(transform)});
    const auto c_headers = to_c(request.headers);
    auto f = make_forward(request, c_headers, chunks ? CPPW_FORWARD_CHUNKS : CPPW_FORWARD_BODY);
    f.user = job.get();
    f.on_head = &Calls::on_head;
    f.on_data = &Calls::on_data;
    f.on_done = &Calls::on_done;
    const cppw_status st = job->reply.call_forward(f);
    // Accepted: on_done owns the job now, and may already have run on another thread.
    if (st == CPPW_OK) {
        (void)job.release();
        return;
    }
    Calls::on_done(job.release(), id_, st, view(forward_refused(st)));
}

inline void Reply::fetch(const UpstreamRequest& request, std::function<void(UpstreamAnswer)> then) const {
    detail::FetchCalls::start(host_, id_, request, std::move(then));
}

inline void Host::fetch(const UpstreamRequest& request, std::function<void(UpstreamAnswer)> then) const {
    detail::FetchCalls::start(*this, CPPW_NO_REQUEST, request, std::move(then));
}

namespace detail {

// The C callback behind Reply::after: `user` is the timer's token in the table.
struct TimerCalls {
    static void fire(void* user, cppw_request_id, cppw_status status) noexcept {
        auto entry = timer_table().take(reinterpret_cast<uintptr_t>(user));
        if (!entry) return;
        try {
            entry->then(status);
        } catch (...) {
            entry->host.error("a timer callback threw; its exception is dropped");
        }
    }
};

}  // namespace detail

inline cppw_status Reply::after(std::chrono::milliseconds delay, std::function<void(cppw_status)> then) const {
    if (!open_) return CPPW_UNKNOWN_REQUEST;
    const auto* s = host_.services();
    if (!CPPW_HAS_SERVICE(s, timer_start)) return CPPW_UNSUPPORTED;
    if (delay.count() < 0 || delay.count() > static_cast<std::chrono::milliseconds::rep>(UINT32_MAX)) {
        return CPPW_INVALID_ARGUMENT;
    }
    auto& table = detail::timer_table();
    const uintptr_t token = table.add(host_, id_, std::move(then));
    const cppw_status st = s->timer_start(s->host, id_, static_cast<uint32_t>(delay.count()), &detail::TimerCalls::fire,
                                          reinterpret_cast<void*>(token));
    // Refused: the function is destroyed unrun, last, as it may own this Reply.
    if (st != CPPW_OK) (void)table.take(token);
    return st;
}

// Passed to Plugin::metrics; reports the plugin's own figures.
class Metrics {
public:
    Metrics(const cppw_host_services* services, cppw_metrics_sink* sink) noexcept
        : services_(services), sink_(sink) {}
    void counter(std::string_view name, std::string_view help, double value) noexcept {
        emit(CPPW_METRIC_COUNTER, name, help, value);
    }
    void gauge(std::string_view name, std::string_view help, double value) noexcept {
        emit(CPPW_METRIC_GAUGE, name, help, value);
    }

private:
    void emit(cppw_metric_type type, std::string_view name, std::string_view help, double value) noexcept {
        const cppw_metric m{sizeof(cppw_metric), static_cast<uint32_t>(type), view(name), view(help), value};
        services_->metric(sink_, &m);
    }
    const cppw_host_services* services_;
    cppw_metrics_sink* sink_;
};

// Hands benchmark payloads to the host (see Plugin::benchmark_payload).
class PayloadSink {
public:
    PayloadSink(const cppw_host_services* services, cppw_payload_sink* sink) noexcept
        : services_(services), sink_(sink) {}
    cppw_status json(std::string_view payload) noexcept { return services_->payload(sink_, view(payload)); }

private:
    const cppw_host_services* services_;
    cppw_payload_sink* sink_;
};

class Plugin {
public:
    explicit Plugin(Host host) noexcept : host_(host) {}
    virtual ~Plugin() = default;
    Plugin(const Plugin&) = delete;
    Plugin& operator=(const Plugin&) = delete;

    virtual bool ready() { return true; }
    virtual double workload(const Request&) { return 100.0; }
    virtual void handle(const Request& request, Reply reply) = 0;
    virtual void metrics(Metrics&) {}
    // The payload of benchmark request `index`; false (the default) when the plugin has no
    // benchmark. Declare the route and the rest in `static constexpr cppw_readiness readiness`.
    virtual bool benchmark_payload(uint32_t /*index*/, PayloadSink&) { return false; }
    // The host gave up request `id` before it was completed (see cppw_cancel_fn): stop its work at
    // the model server. I/O thread; must not block. The Reply must still be completed (or dropped).
    virtual void cancel(cppw_request_id /*id*/) {}

protected:
    const Host& host() const noexcept { return host_; }

private:
    Host host_;
};

namespace detail {

inline void write_error(cppw_error_buf error, std::string_view message) noexcept {
    if (error.data == nullptr || error.capacity == 0) return;
    const size_t n = message.size() < error.capacity - 1 ? message.size() : error.capacity - 1;
    for (size_t i = 0; i < n; ++i) error.data[i] = message[i];
    error.data[n] = '\0';
}

inline cppw_status fail_from_current_exception(cppw_error_buf error) noexcept {
    try {
        throw;
    } catch (const std::exception& e) {
        write_error(error, e.what());
    } catch (...) {
        write_error(error, "unknown exception");
    }
    return CPPW_ERROR;
}

template <class T>
struct Hooks {
    struct State {
        Host host;
        T plugin;
    };

    static cppw_status init(const cppw_host_services* services, void** state, cppw_error_buf error) noexcept {
        try {
            *state = new State{Host(services), T(Host(services))};
            return CPPW_OK;
        } catch (...) {
            return fail_from_current_exception(error);
        }
    }
    static int ready(void* state) noexcept {
        try {
            return static_cast<State*>(state)->plugin.ready() ? 1 : 0;
        } catch (...) {
            return 0;
        }
    }
    // What Request::keep holds crosses the C ABI as a heap-allocated handle to it.
    using Kept = std::shared_ptr<KeptBase>;

    static cppw_status workload(void* state, const cppw_request_info* info, double* out,
                                cppw_error_buf error) noexcept {
        auto* s = static_cast<State*>(state);
        try {
            const Request request = Request::from(*info, s->host.services());
            *out = s->plugin.workload(request);
            const auto* services = s->host.services();
            if (request.kept_ && CPPW_HAS_SERVICE(services, attach_state)) {
                auto kept = std::make_unique<Kept>(std::move(request.kept_));
                if (services->attach_state(services->host, info->id, kept.get()) == CPPW_OK) (void)kept.release();
            }
            return CPPW_OK;
        } catch (...) {
            return fail_from_current_exception(error);
        }
    }
    static cppw_status handle(void* state, const cppw_request_info* info, cppw_error_buf error) noexcept {
        auto* s = static_cast<State*>(state);
        struct Scope {
            explicit Scope(cppw_request_id id) noexcept { handling = id; }
            ~Scope() { handling = 0; }
        } scope(info->id);
        // Taken before anything can throw: it is ours whatever handle returns.
        std::unique_ptr<Kept> kept;
        if (info->struct_size >= offsetof(cppw_request_info, request_state) + sizeof(void*)) {
            kept.reset(static_cast<Kept*>(info->request_state));
        }
        try {
            Request request = Request::from(*info, s->host.services());
            if (kept) request.kept_ = std::move(*kept);
            s->plugin.handle(request, Reply(s->host, info->id));
            return CPPW_OK;
        } catch (...) {
            // Not accepted: the host completes the request, so its timers never call back.
            timer_table().drop(info->id);
            return fail_from_current_exception(error);
        }
    }
    static void cancel(void* state, cppw_request_id id) noexcept {
        auto* s = static_cast<State*>(state);
        try {
            s->plugin.cancel(id);
        } catch (...) {
            s->host.warn("cancel hook threw; its exception is dropped");
        }
    }
    static void release_state(void*, void* request_state) noexcept { delete static_cast<Kept*>(request_state); }
    static void metrics(void* state, cppw_metrics_sink* sink) noexcept {
        auto* s = static_cast<State*>(state);
        try {
            Metrics m(s->host.services(), sink);
            s->plugin.metrics(m);
        } catch (...) {
            s->host.warn("metrics hook threw; its figures are skipped");
        }
    }
    static cppw_status benchmark(void* state, uint32_t index, cppw_payload_sink* sink) noexcept {
        auto* s = static_cast<State*>(state);
        try {
            PayloadSink p(s->host.services(), sink);
            return s->plugin.benchmark_payload(index, p) ? CPPW_OK : CPPW_UNSUPPORTED;
        } catch (...) {
            s->host.warn("benchmark_payload threw; the benchmark stops");
            return CPPW_ERROR;
        }
    }
    static void finalize(void* state) noexcept {
        try {
            timer_table().clear();
            delete static_cast<State*>(state);
        } catch (...) {
        }
    }
};

template <class T>
constexpr const char* model_server_url_of() noexcept {
    if constexpr (requires { T::model_server_url; }) {
        return T::model_server_url;
    } else {
        return nullptr;
    }
}

template <class T>
constexpr const cppw_readiness* readiness_of() noexcept {
    if constexpr (requires { T::readiness; }) {
        return &T::readiness;
    } else {
        return nullptr;
    }
}

}  // namespace detail

// A NULL-terminated pattern list for cppw_readiness: `static constexpr const char* loaded[] = {"x", nullptr};`
constexpr cppw_readiness make_readiness(uint32_t benchmark_route, const char* const* load_patterns = nullptr,
                                   const char* const* error_patterns = nullptr,
                                   const char* const* info_patterns = nullptr, const char* health_path = nullptr,
                                   uint32_t runs = 0, uint32_t concurrency = 0) noexcept {
    return cppw_readiness{sizeof(cppw_readiness), benchmark_route, runs, concurrency, load_patterns,
                          error_patterns, info_patterns, health_path};
}

}  // namespace cppworker

// Exports the descriptor for plugin class T (which has `static constexpr cppw_route routes[]`, a
// constructor taking cppworker::Host, and optionally `static constexpr cppw_readiness readiness`
// and `static constexpr const char* model_server_url`, the default base URL of its model server).
#define CPPWORKER_PLUGIN(T, NAME, VERSION)                                                     \
    CPPW_DEFINE_PLUGIN = {CPPW_PLUGIN_MAGIC,                                                   \
                          CPPW_ABI_MAJOR,                                                      \
                          CPPW_ABI_MINOR,                                                      \
                          sizeof(cppw_plugin_descriptor),                                      \
                          static_cast<uint32_t>(sizeof(T::routes) / sizeof(T::routes[0])),     \
                          T::routes,                                                           \
                          sizeof(cppw_route),                                                  \
                          0,                                                                   \
                          NAME,                                                                \
                          VERSION,                                                             \
                          &cppworker::detail::Hooks<T>::init,                                  \
                          &cppworker::detail::Hooks<T>::ready,                                 \
                          &cppworker::detail::Hooks<T>::workload,                              \
                          &cppworker::detail::Hooks<T>::handle,                                \
                          &cppworker::detail::Hooks<T>::metrics,                               \
                          &cppworker::detail::Hooks<T>::finalize,                              \
                          cppworker::detail::readiness_of<T>(),                                \
                          &cppworker::detail::Hooks<T>::benchmark,                             \
                          cppworker::detail::model_server_url_of<T>(),                         \
                          &cppworker::detail::Hooks<T>::cancel,                                \
                          &cppworker::detail::Hooks<T>::release_state};

#endif  // CPPWORKER_PLUGIN_HPP
