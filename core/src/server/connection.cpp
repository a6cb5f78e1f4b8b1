#include "server/connection.hpp"

#include "http1/head.hpp"
#include "metrics/prometheus.hpp"
#include "accounting/admission.hpp"
#include "logging/error_text.hpp"
#include "pyjson/dumps.hpp"
#include "server/envelope.hpp"
#include "server/http_date.hpp"
#include "server/plugin_call.hpp"
#include "server/session_endpoints.hpp"
#include "requests/request_scope.hpp"

#include <cppworker/plugin.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <array>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace cppworker::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::awaitable;
using asio::use_awaitable;
constexpr auto tuple_awaitable = asio::as_tuple(use_awaitable);

using Request = http::request<http::string_body>;
using Clock = std::chrono::steady_clock;

// One client connection, over plain TCP (beast::tcp_stream) or TLS (beast::ssl_stream of one):
// the same code serves both, so timeouts, limits and logs are alike.
template <class Stream>
struct Connection {
    ServerState& server;
    Stream stream;
    beast::flat_buffer buffer;
    bool idle = true;  // between requests; only touched on the connection's event loop
    // No request read yet. The drain does not close such a connection at once as idle: its client
    // has most likely sent its request already (it connected before we stopped accepting, maybe
    // to a socket another worker process now accepts on), so that one request is served.
    bool fresh = true;
    std::string peer;
    unsigned last_status = 0;  // of the answer last written, for the route metrics

    // Timeouts, cancellation and the peer live on the TCP layer, under TLS if there is one.
    beast::tcp_stream& tcp() { return beast::get_lowest_layer(stream); }
};

template <class Stream>
constexpr bool is_tls = !std::is_same_v<Stream, beast::tcp_stream>;

// The answer for one request as the core writes it.
struct Reply {
    http::status status;
    std::string content_type;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers = {};
};

Reply json_reply(http::status status, std::string body) { return Reply{status, "application/json", std::move(body)}; }
Reply error_reply(http::status status, std::string_view message) {
    return json_reply(status, pyjson::error_body(message));
}

// 1xx, 204 and 304 answers carry no body, and so no Content-Length.
bool bodiless(unsigned status) { return status < 200 || status == 204 || status == 304; }

// Writes a whole answer; false when the client is gone. The head is written straight into one
// buffer and goes out with the body in one write (Beast's serializer cost more than the answer).
// Framing and the connection are the core's: a reply's own Content-Length, Transfer-Encoding or
// Connection header is not sent.
// Takes the reply by reference: GCC 12 mishandles temporaries inside co_await expressions, so
// callers name their Reply first.
template <class Stream>
awaitable<bool> write_reply(Connection<Stream>& c, const Request& req, Reply& reply, bool keep_alive) {
    const auto status = static_cast<unsigned>(reply.status);
    http1::Fields fields;
    fields.set("Server", "cppworker");
    fields.set("Date", http_date_now());
    if (!reply.content_type.empty()) fields.set("Content-Type", reply.content_type);
    for (const auto& [name, value] : reply.headers) {
        if (http1::is_framing_field(name)) continue;
        fields.set(name, value);
    }
    std::string length;
    if (bodiless(status)) {
        reply.body.clear();
    } else {
        length = std::to_string(reply.body.size());
        fields.set("Content-Length", length);
    }
    const bool keep = keep_alive && !c.server.stopping;
    if (req.version() >= 11 && !keep) fields.set("Connection", "close");
    if (req.version() < 11 && keep) fields.set("Connection", "keep-alive");
    const std::string head =
        http1::response_head(req.version(), status, http::obsolete_reason(reply.status), fields);
    c.tcp().expires_after(c.server.config.read_timeout);
    c.last_status = status;
    const std::array<asio::const_buffer, 2> answer{asio::buffer(head), asio::buffer(reply.body)};
    auto [ec, n] = co_await asio::async_write(c.stream, answer, tuple_awaitable);
    co_return !ec;
}

// A whole answer to a request that could not be read; the connection closes after it.
template <class Stream>
awaitable<void> write_early_reply(Connection<Stream>& c, http::status status, const std::string& message) {
    http::response<http::string_body> res{status, 11};
    res.set(http::field::server, "cppworker");
    res.set(http::field::date, http_date_now());
    res.set(http::field::content_type, "application/json");
    res.body() = pyjson::error_body(message);
    res.keep_alive(false);
    res.prepare_payload();
    c.tcp().expires_after(std::chrono::seconds(5));
    co_await http::async_write(c.stream, res, tuple_awaitable);
}

Reply builtin_reply(ServerState& s, std::string_view path) {
    if (path == "/ping") return Reply{http::status::ok, "text/plain", "pong"};
    if (path == "/healthz") return json_reply(http::status::ok, R"({"status": "alive"})");
    if (path == "/readyz") {
        const bool ready = s.readiness.ready() && s.plugin.ready();
        return json_reply(ready ? http::status::ok : http::status::service_unavailable,
                          ready ? R"({"ready": true})" : R"({"ready": false})");
    }
    std::size_t queued = s.fifo_gate.queued();
    for (const auto& gate : s.route_gates) queued += gate ? gate->queued() : 0;
    const metrics::WorkerGauges gauges{queued, s.sessions.size(), s.readiness.max_perf(), s.registry.size(),
                                       s.open_connections(), s.refused_connections.load()};
    return Reply{http::status::ok, "text/plain; version=0.0.4",
                 metrics::format_worker_metrics(s.ledger.totals(), s.ledger.snapshot(), gauges) +
                     s.route_metrics.format() + metrics::format_upstream_metrics(s.forwarder.stats()) +
                     metrics::format_plugin_metrics(s.plugin.metrics())};
}

// Waits for the next wake-up of `wake`, watching the client meanwhile unless told not to. False
// when the client hung up; a pipelined request's bytes are kept and watching stops.
template <class Stream>
awaitable<bool> wait_watching(Connection<Stream>& c, asio::steady_timer& wake, bool& watch_client) {
    c.tcp().expires_never();
    if (!watch_client) {
        co_await wake.async_wait(tuple_awaitable);
        co_return true;
    }
    // The two operations themselves, not coroutines around them: no frames to allocate. Whichever
    // ends first cancels the other, and both have ended when this resumes.
    // (Functions taking the group's handler: Beast's TLS stream predates asio::deferred.)
    auto [order, wait_ec, read_ec, n] =
        co_await asio::experimental::make_parallel_group(
            [&](auto handler) { return wake.async_wait(std::move(handler)); },
            [&](auto handler) { return c.stream.async_read_some(c.buffer.prepare(4096), std::move(handler)); })
            .async_wait(asio::experimental::wait_for_one(), use_awaitable);
    // Bytes that arrived as the wake-up won are kept all the same.
    if (n > 0) {
        c.buffer.commit(n);
        watch_client = false;
        co_return true;
    }
    co_return order[0] == 0 || read_ec == asio::error::operation_aborted;
}

enum class Turn { came, client_left, timed_out };

// Waits until the route's gate lets this request run, the client leaves (or its session closes),
// or the deadline passes. Only when the turn came does the request hold a slot.
template <class Stream>
awaitable<Turn> wait_turn(Connection<Stream>& c, accounting::ConcurrencyGate& gate, requests::PendingRequest& pending,
                          const std::shared_ptr<asio::steady_timer>& wake, bool& watch_client,
                          Clock::time_point deadline) {
    auto turn = std::make_shared<std::atomic<bool>>(false);
    const bool now = gate.enter(pending.id(), [turn, weak = std::weak_ptr(wake), executor = wake->get_executor()] {
        turn->store(true);
        asio::post(executor, [weak] {
            if (auto timer = weak.lock()) timer->cancel();
        });
    });
    if (now) co_return Turn::came;
    spdlog::debug("request {}: queued behind {} running", pending.id(), gate.running());
    while (!turn->load()) {
        wake->expires_at(deadline);
        const bool client_here = co_await wait_watching(c, *wake, watch_client);
        if (turn->load()) break;
        const bool gone = !client_here || pending.cancelled();
        if (gone || Clock::now() >= deadline) {
            if (!gate.leave_queue(pending.id())) gate.exit();  // the turn came as it left: pass it on
            co_return gone ? Turn::client_left : Turn::timed_out;
        }
    }
    co_return Turn::came;
}

// The head of a chunked answer as bytes, to go out in one write with the chunks that follow it.
std::string chunked_head_bytes(http::response<http::empty_body>& head) {
    http::response_serializer<http::empty_body> serializer(head);
    serializer.split(true);
    std::string bytes;
    boost::system::error_code ec;
    while (!ec && !serializer.is_header_done()) {
        serializer.next(ec, [&](boost::system::error_code&, const auto& buffers) {
            for (const auto buffer : beast::buffers_range_ref(buffers)) {
                bytes.append(static_cast<const char*>(buffer.data()), buffer.size());
            }
            serializer.consume(beast::buffer_bytes(buffers));
        });
    }
    if (ec) throw boost::system::system_error(ec, "serializing a stream's head");
    return bytes;
}

// One chunk of a chunked body, framed as Beast frames it (no extensions). An empty piece would
// read as the last chunk, so there is none.
void append_chunk(std::string& out, std::string_view piece) {
    if (piece.empty()) return;
    fmt::format_to(std::back_inserter(out), "{:x}\r\n", piece.size());
    out.append(piece);
    out += "\r\n";
}

// Sends what the plugin produces for one accepted request, until it completed it, the client
// left, or a deadline passed: `deadline` for the answer to begin, then --stream-idle-timeout
// between the writes of a plugin's own stream (a relayed one has the forwarder's timeouts).
// The outcome goes to `scope` as soon as it is known, before the last write: a client that has
// its answer finds it counted, as PyWorker counts a response once its handler returns it.
// Returns whether the connection can carry another request.
template <class Stream>
awaitable<bool> relay_answer(Connection<Stream>& c, const Request& req, requests::RequestScope& scope,
                             requests::PendingRequest& pending, asio::steady_timer& wake, bool keep_alive,
                             bool& watch_client, Clock::time_point deadline) {
    auto& s = c.server;
    using accounting::Outcome;
    std::optional<http::response<http::empty_body>> head;
    Clock::time_point last_write;

    for (;;) {
        // A stream's events that are waiting go out in few writes: head, chunks and the last chunk
        // together when the plugin had them all ready (a relayed SSE answer that came whole), in
        // writes of at most about 64 KiB, so a backlog is not copied whole.
        constexpr std::size_t max_write_bytes = 64 * 1024;
        std::optional<bool> ended;  // the stream ended: whether the connection goes on
        auto events = pending.take_events();
        std::size_t next = 0;
        do {
            std::string out;
            std::size_t out_payload = 0;
            for (; next < events.size() && !ended && out.size() < max_write_bytes; ++next) {
                auto& e = events[next];
                switch (e.kind) {
                case requests::Event::Kind::respond: {
                    const bool failed = e.answer.failed;
                    Reply reply{static_cast<http::status>(e.answer.status), std::move(e.answer.content_type),
                                std::move(e.answer.body), std::move(e.answer.headers)};
                    scope.finish(failed ? Outcome::error : Outcome::success);
                    co_return co_await write_reply(c, req, reply, keep_alive) && keep_alive;
                }
                case requests::Event::Kind::refused: {
                    auto reply = error_reply(http::status::internal_server_error, e.data);
                    scope.finish(Outcome::error);
                    co_return co_await write_reply(c, req, reply, keep_alive) && keep_alive;
                }
                case requests::Event::Kind::stream_begin:
                    head.emplace(static_cast<http::status>(e.answer.status), req.version());
                    head->set(http::field::server, "cppworker");
                    head->set(http::field::date, http_date_now());
                    head->set(http::field::content_type, e.answer.content_type);
                    for (auto& [name, value] : e.answer.headers) head->set(name, value);
                    head->keep_alive(keep_alive && !s.stopping);
                    head->chunked(true);
                    c.last_status = head->result_int();
                    out += chunked_head_bytes(*head);
                    break;
                case requests::Event::Kind::stream_data:
                    append_chunk(out, e.data);
                    out_payload += e.data.size();
                    break;
                case requests::Event::Kind::stream_end:
                    if (e.end_status != CPPW_OK) {
                        spdlog::warn("request {}: the plugin ended its stream with status {}{}{}; cutting the "
                                     "answer short",
                                     pending.id(), static_cast<int>(e.end_status), e.data.empty() ? "" : ": ", e.data);
                        scope.finish(Outcome::error);
                        ended = false;
                    } else {
                        scope.finish(Outcome::success);
                        out += "0\r\n\r\n";
                        ended = keep_alive;
                    }
                    break;
                }
            }
            if (!out.empty()) {
                last_write = Clock::now();
                c.tcp().expires_after(s.config.read_timeout);
                auto [ec, n] = co_await asio::async_write(c.stream, asio::buffer(out), tuple_awaitable);
                pending.sent(out_payload);
                if (ec) {
                    // The client is gone.
                    spdlog::debug("request {}: client {} went away while the answer was sent", pending.id(), c.peer);
                    pending.cancel();
                    scope.finish(Outcome::cancel);
                    co_return false;
                }
            }
        } while (next < events.size() && !ended);
        if (ended) co_return *ended;

        if (pending.cancelled()) {
            if (pending.overflowed()) {
                spdlog::warn("request {} ({}): the plugin queued over {} bytes for a slow client, ignoring "
                             "backpressure; stream cut short",
                             pending.id(), req.target(),
                             requests::PendingRequest::hard_limit_factor * s.config.stream_high_water);
                scope.finish(Outcome::error);
                if (head) co_return false;
                // Cut before its head went out: the client still gets an answer.
                auto reply = error_reply(http::status::internal_server_error, "the plugin's stream overran its buffer");
                co_await write_reply(c, req, reply, false);
                co_return false;
            }
            // Its session closed: PyWorker aborts the connection rather than answer.
            spdlog::info("request {} ({}): aborted", pending.id(), req.target());
            scope.finish(Outcome::cancel);
            co_return false;
        }
        const bool plugin_stream = head && pending.plugin_may_answer();
        if (plugin_stream && Clock::now() >= last_write + s.config.stream_idle_timeout) {
            pending.cancel();
            spdlog::warn("request {} ({}): the plugin's stream wrote nothing for {} ms; cut short", pending.id(),
                         req.target(), s.config.stream_idle_timeout.count());
            scope.finish(Outcome::error);
            co_return false;
        }
        if (!head && Clock::now() >= deadline) {
            pending.cancel();
            spdlog::warn("request {} ({}): the plugin did not answer within {} ms; answering 504", pending.id(),
                         req.target(), s.config.request_timeout.count());
            auto reply = error_reply(http::status::gateway_timeout, "the backend did not answer in time");
            scope.finish(Outcome::error);
            co_return co_await write_reply(c, req, reply, keep_alive) && keep_alive;
        }

        if (pending.has_events()) continue;
        wake.expires_at(plugin_stream ? last_write + s.config.stream_idle_timeout
                        : head        ? Clock::time_point::max()
                                      : deadline);
        if (!co_await wait_watching(c, wake, watch_client)) {
            spdlog::info("request {} ({}): client {} disconnected; cancelled", pending.id(), req.target(), c.peer);
            pending.cancel();
            scope.finish(Outcome::cancel);
            co_return false;
        }
    }
}

// Why a request was turned away before it started, as PyWorker answers it (empty body).
template <class Stream>
awaitable<bool> refuse(Connection<Stream>& c, const Request& req, requests::RequestScope& scope, const HandleCall& call,
                       double workload, http::status status, std::string_view why, bool keep_alive) {
    scope.reject(call.envelope.who, workload, call.envelope.session_id.empty());
    spdlog::info("request {} ({}): {} -> {}", call.info.id, call.path, why, static_cast<unsigned>(status));
    Reply reply{status, "", ""};
    co_return co_await write_reply(c, req, reply, keep_alive);
}

// The request path of core/protocol.md §4.2: envelope, workload, session, signature, admission, queue,
// then the plugin. Everything the request holds belongs to its scope.
template <class Stream>
awaitable<bool> serve_plugin_route(Connection<Stream>& c, const Request& req, uint32_t route_index, std::string_view path,
                                   std::string_view query, bool keep_alive) {
    auto& s = c.server;
    // Time in the queue counts toward --request-timeout: it is the client's wait.
    const auto deadline = Clock::now() + s.config.request_timeout;
    c.last_status = metrics::RouteMetrics::client_closed;
    requests::RequestScope scope({s.registry, s.ledger, s.route_metrics}, route_index, c.last_status);
    const auto& pending = scope.pending();

    auto parsed = parse_envelope(req.body(), s.require_auth);
    if (auto* err = std::get_if<EnvelopeError>(&parsed)) {
        auto reply = json_reply(http::status::unprocessable_entity, std::move(err->body));
        co_return co_await write_reply(c, req, reply, keep_alive);
    }
    auto call = std::make_shared<HandleCall>(std::move(std::get<Envelope>(parsed)), path, query, route_index);
    const auto& envelope = call->envelope;
    call->info.id = pending->id();
    double workload = 0;
    if (auto err = s.plugin.workload(call->info, workload)) {
        auto reply = error_reply(http::status::unprocessable_entity, *err);
        co_return co_await write_reply(c, req, reply, keep_alive);
    }
    const bool in_session = !envelope.session_id.empty();
    if (in_session && !s.sessions.join(envelope.session_id, pending)) {
        auto reply = error_reply(http::status::gone, "invalid session");
        co_return co_await write_reply(c, req, reply, keep_alive);
    }
    if (s.require_auth) {
        const auto verdict = s.authenticator.check(*envelope.auth_data);
        if (verdict != auth::Verdict::accepted) {
            co_return co_await refuse(c, req, scope, *call, workload, http::status::unauthorized,
                                      auth::to_string(verdict), keep_alive);
        }
    }
    const auto& route = s.router.route(route_index);
    if (route.max_queue_time >= 0 &&
        accounting::over_queue_limit(s.ledger.queued_workload(), s.readiness.max_perf(), route.max_queue_time)) {
        co_return co_await refuse(c, req, scope, *call, workload, http::status::too_many_requests,
                                  "queue estimate over max_queue_time", keep_alive);
    }

    scope.start(envelope.who, workload, !in_session);
    const auto executor = co_await asio::this_coro::executor;
    auto wake = std::make_shared<asio::steady_timer>(executor);
    pending->set_notifier([weak = std::weak_ptr(wake), executor] {
        asio::post(executor, [weak] {
            if (auto timer = weak.lock()) timer->cancel();
        });
    });
    bool watch_client = true;
    if (auto* gate = s.gate_for(route_index)) {
        switch (co_await wait_turn(c, *gate, *pending, wake, watch_client, deadline)) {
        case Turn::came: scope.hold(*gate); break;
        case Turn::client_left:
            spdlog::info("request {} ({}): left the queue; cancelled", pending->id(), path);
            co_return false;
        case Turn::timed_out: {
            spdlog::warn("request {} ({}): still queued after {} ms; answering 504", pending->id(), path,
                         s.config.request_timeout.count());
            auto reply = error_reply(http::status::gateway_timeout, "the request waited in its queue too long");
            scope.finish(accounting::Outcome::error);
            co_return co_await write_reply(c, req, reply, keep_alive) && keep_alive;
        }
        }
    }

    // Not awaited: the connection keeps watching its client while the plugin works.
    scope.hand_to_plugin();
    start_handle(s, call, pending);
    co_return co_await relay_answer(c, req, scope, *pending, *wake, keep_alive, watch_client, deadline);
}

// Answers one request; false when the connection must close afterwards.
template <class Stream>
awaitable<bool> serve_request(Connection<Stream>& c, const Request& req) {
    auto& s = c.server;
    const bool keep_alive = req.keep_alive() && !s.stopping.load();
    const std::string_view target = req.target();
    const auto q = target.find('?');
    const auto path = target.substr(0, q);
    const auto query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);

    if (is_core_post_path(path)) {
        if (req.method() != http::verb::post) {
            auto reply = error_reply(http::status::method_not_allowed, fmt::format("{} takes POST", path));
            reply.headers.emplace_back("Allow", "POST");
            co_return co_await write_reply(c, req, reply, keep_alive) && keep_alive;
        }
        auto core = answer_core_post(s, path, req.body(), req[http::field::authorization]);
        Reply reply{static_cast<http::status>(core.status), core.body.empty() ? "" : "application/json",
                    std::move(core.body)};
        co_return co_await write_reply(c, req, reply, keep_alive) && keep_alive;
    }
    if (plugin::is_builtin_path(path)) {
        if (req.method() != http::verb::get) {
            auto reply = error_reply(http::status::method_not_allowed, fmt::format("{} takes GET", path));
            reply.headers.emplace_back("Allow", "GET");
            co_return co_await write_reply(c, req, reply, keep_alive) && keep_alive;
        }
        auto reply = builtin_reply(s, path);
        co_return co_await write_reply(c, req, reply, keep_alive) && keep_alive;
    }

    const auto match = s.router.match(req.method_string(), path);
    if (std::holds_alternative<PathNotFound>(match)) {
        auto reply = error_reply(http::status::not_found, fmt::format("no route {}", path));
        co_return co_await write_reply(c, req, reply, keep_alive) && keep_alive;
    }
    if (const auto* wrong = std::get_if<MethodNotAllowed>(&match)) {
        auto reply = error_reply(http::status::method_not_allowed,
                                 fmt::format("{} takes {}, not {}", path, wrong->allow, req.method_string()));
        reply.headers.emplace_back("Allow", wrong->allow);
        co_return co_await write_reply(c, req, reply, keep_alive) && keep_alive;
    }
    const auto index = std::get<RouteFound>(match).index;
    co_return co_await serve_plugin_route(c, req, index, path, query, keep_alive) && keep_alive;
}

// Reads the next request; answers read errors itself. Empty when the connection is done.
template <class Stream>
awaitable<std::optional<Request>> read_request(Connection<Stream>& c) {
    auto& cfg = c.server.config;
    http::request_parser<http::string_body> parser;
    parser.body_limit(cfg.max_body_bytes);
    parser.header_limit(static_cast<uint32_t>(cfg.max_header_bytes));
    // Our own deadline rather than the stream's: the stream's closes the socket, and a slow client
    // is owed a 408 on it.
    c.tcp().expires_never();
    const auto executor = co_await asio::this_coro::executor;
    asio::steady_timer deadline(executor, cfg.read_timeout);
    auto reading = std::make_shared<bool>(true);
    auto timed_out = std::make_shared<bool>(false);
    deadline.async_wait([&socket = c.tcp().socket(), reading, timed_out](boost::system::error_code ec) {
        if (ec || !*reading) return;
        *timed_out = true;
        socket.cancel();
    });
    c.idle = true;
    boost::system::error_code ec;
    std::size_t n = 0;
    std::tie(ec, n) = co_await http::async_read_header(c.stream, c.buffer, parser, tuple_awaitable);
    c.idle = false;
    // Beast holds the start line and the fields to the limit each, so a head can pass it by up to a
    // start line's length; `n` is the whole head.
    if (!ec && n > cfg.max_header_bytes) ec = http::error::header_limit;
    if (!ec && !parser.is_done()) {
        // curl and others wait (a second, for curl) for this before sending a large body.
        if (beast::iequals(parser.get()[http::field::expect], "100-continue")) {
            http::response<http::empty_body> go_on{http::status::continue_, 11};
            std::tie(ec, n) = co_await http::async_write(c.stream, go_on, tuple_awaitable);
        }
        if (!ec) std::tie(ec, n) = co_await http::async_read(c.stream, c.buffer, parser, tuple_awaitable);
    }
    *reading = false;
    deadline.cancel();
    if (!ec) co_return parser.release();

    const bool started = parser.got_some() || c.buffer.size() > 0;
    std::optional<std::pair<http::status, std::string>> answer;
    if (*timed_out && started) {
        spdlog::info("client {} was too slow sending its request; 408", c.peer);
        answer.emplace(http::status::request_timeout, "the request took too long to arrive");
    } else if (ec == http::error::body_limit) {
        answer.emplace(http::status::payload_too_large, fmt::format("request body over {} bytes", cfg.max_body_bytes));
    } else if (ec == http::error::header_limit) {
        answer.emplace(http::status::request_header_fields_too_large,
                       fmt::format("request head over {} bytes", cfg.max_header_bytes));
    } else if (started && ec != http::error::end_of_stream && ec != asio::error::connection_reset &&
               ec != asio::error::operation_aborted) {
        answer.emplace(http::status::bad_request, fmt::format("malformed request: {}", ec.message()));
    }
    if (answer) co_await write_early_reply(c, answer->first, answer->second);
    co_return std::nullopt;
}

}  // namespace

namespace {

// Ends the connection: TLS says close_notify (briefly: a peer that does not answer is not waited
// for), then the TCP side is shut.
template <class Stream>
awaitable<void> close_connection(Connection<Stream>& c) {
    if constexpr (is_tls<Stream>) {
        c.tcp().expires_after(std::chrono::seconds(1));
        co_await c.stream.async_shutdown(tuple_awaitable);
    }
    boost::system::error_code ec;
    c.tcp().socket().shutdown(asio::ip::tcp::socket::shutdown_send, ec);
    c.tcp().close();
}

template <class Stream>
awaitable<void> serve(ServerState& server, Stream stream) {
    auto c = std::make_shared<Connection<Stream>>(Connection<Stream>{server, std::move(stream), {}, true, true, {}});
    boost::system::error_code ec;
    const auto remote = c->tcp().socket().remote_endpoint(ec);
    c->peer = ec ? "?" : fmt::format("{}:{}", remote.address().to_string(), remote.port());

    const auto executor = co_await asio::this_coro::executor;
    const auto id = server.connection_opened([weak = std::weak_ptr(c), executor] {
        asio::post(executor, [weak] {
            auto conn = weak.lock();
            if (!conn || !conn->idle) return;
            if (!conn->fresh) return conn->tcp().cancel();
            // A client that connected just before we stopped accepting sends its request within
            // moments; one that sends nothing is not waited for beyond a short grace.
            auto grace = std::make_shared<asio::steady_timer>(conn->tcp().get_executor(), std::chrono::seconds(2));
            grace->async_wait([weak, grace](boost::system::error_code ec) {
                if (auto late = weak.lock(); !ec && late && late->idle && late->fresh) late->tcp().cancel();
            });
        });
    });
    if constexpr (is_tls<Stream>) {
        // A client gets as long for its handshake as for a request.
        c->tcp().expires_after(server.config.read_timeout);
        auto [handshake_ec] = co_await c->stream.async_handshake(asio::ssl::stream_base::server, tuple_awaitable);
        if (handshake_ec) {
            spdlog::debug("client {}: TLS handshake failed: {}", c->peer, handshake_ec.message());
            c->tcp().close();
            if (id) server.connection_closed(*id);
            co_return;
        }
    }
    if (!id) {
        ++server.refused_connections;
        std::optional<logging::RepeatedFailure::Line> line;
        {
            std::lock_guard lock(server.refused_log_mutex);
            line = server.refused_log.failed("accept", Clock::now());
        }
        if (line) {
            spdlog::warn("{} connection(s) refused with 503: --max-connections {} are open", line->failures,
                         server.config.max_connections);
        }
        co_await write_early_reply(*c, http::status::service_unavailable, "too many open connections");
        co_await close_connection(*c);
        co_return;
    }

    try {
        // After a shutdown began, a connection ends with the answer it was busy with, or, if it
        // had none yet, with the answer to its first request.
        while (c->fresh || !server.stopping) {
            auto req = co_await read_request(*c);
            c->fresh = false;
            if (!req || !co_await serve_request(*c, *req)) break;
        }
    } catch (const std::exception& e) {
        spdlog::error("connection {}: {}", c->peer, logging::error_text(e));
    }
    co_await close_connection(*c);
    server.connection_closed(*id);
}

}  // namespace

awaitable<void> serve_connection(ServerState& server, asio::ip::tcp::socket socket) {
    co_await serve(server, beast::tcp_stream(std::move(socket)));
}

awaitable<void> serve_tls_connection(ServerState& server, asio::ip::tcp::socket socket, asio::ssl::context& tls) {
    co_await serve(server, beast::ssl_stream<beast::tcp_stream>(beast::tcp_stream(std::move(socket)), tls));
}

}  // namespace cppworker::server
