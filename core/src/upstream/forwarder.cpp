#include "upstream/forwarder.hpp"

#include "async/event_loops.hpp"

#include "http1/head.hpp"
#include "logging/error_text.hpp"
#include "upstream/answer_rules.hpp"
#include "upstream/resolve.hpp"
#include "upstream/url.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <sys/socket.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>

namespace cppworker::upstream {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using LoopExecutor = asio::io_context::executor_type;
constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t read_piece = 64 * 1024;
constexpr std::size_t spare_pieces_per_loop = 4;

http::verb verb_of(cppw_method m) {
    switch (m) {
    case CPPW_METHOD_GET: return http::verb::get;
    case CPPW_METHOD_PUT: return http::verb::put;
    case CPPW_METHOD_DELETE: return http::verb::delete_;
    case CPPW_METHOD_PATCH: return http::verb::patch;
    default: return http::verb::post;
    }
}

// An idle kept-alive connection the model server has since closed reads EOF at once; a live one
// has nothing to read.
bool still_open(tcp::socket& s) {
    char c;
    const auto n = ::recv(s.native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

std::string join_target(const std::string& base_path, const std::string& target) {
    if (base_path.empty() || base_path == "/") return target;
    if (base_path.back() == '/') return base_path.substr(0, base_path.size() - 1) + target;
    return base_path + target;
}

struct Outcome {
    cppw_status status;
    std::string message;
};

// The request's head as bytes. The framing and the connection are the host's (plugin.h says so):
// a plugin's Host, Content-Length, Transfer-Encoding or Connection header is not sent.
std::string request_head(const UpstreamCall& call, const Url& base) {
    const std::string host = base.host + ":" + base.port;
    http1::Fields fields;
    fields.set("Host", host);
    fields.set("User-Agent", "cppworker");
    for (const auto& [name, value] : call.headers) {
        if (http1::is_framing_field(name) || beast::iequals(name, "Host")) continue;
        fields.set(name, value);
    }
    std::string length;
    if (!call.body.empty() || call.method == CPPW_METHOD_POST || call.method == CPPW_METHOD_PUT ||
        call.method == CPPW_METHOD_PATCH) {
        fields.set("Content-Type", call.content_type.empty() ? std::string_view("application/json") : call.content_type);
        length = std::to_string(call.body.size());
        fields.set("Content-Length", length);
    }
    return http1::request_head(http::to_string(verb_of(call.method)), join_target(base.target, call.target), fields);
}

}  // namespace

// One forward in flight. Everything but `finished` at shutdown is touched on its loop's thread only.
struct Op {
    Op(std::size_t l, uint64_t i, LoopExecutor e, std::shared_ptr<requests::PendingRequest> p, UpstreamCall c,
       std::unique_ptr<AnswerSink> k)
        : loop(l), id(i), executor(e), pending(std::move(p)), call(std::move(c)), sink(std::move(k)), watchdog(e) {}

    std::size_t loop;
    uint64_t id;
    LoopExecutor executor;
    std::shared_ptr<requests::PendingRequest> pending;
    UpstreamCall call;
    std::unique_ptr<AnswerSink> sink;
    std::optional<tcp::socket> socket;
    asio::steady_timer watchdog;
    bool finished = false;   // the sink heard done
    bool cancelled = false;  // the request finished first
    bool timed_out = false;

    void close_socket() {
        if (!socket) return;
        boost::system::error_code ec;
        socket->shutdown(tcp::socket::shutdown_both, ec);
        socket->close(ec);
    }
};

// What one event loop's forwards share: its kept-alive connections (sockets of that loop) and
// its forwards in flight. Only that loop's thread takes the lock, but for stats and shutdown.
struct LoopPool {
    std::mutex mutex;
    std::vector<tcp::socket> idle;
    std::unordered_map<uint64_t, std::shared_ptr<Op>> live;
    // Read buffers of finished forwards: the next one takes one instead of a fresh 64 KiB.
    std::vector<std::unique_ptr<char[]>> spare_pieces;
    bool stopped = false;  // abandon_all ran: nothing will run a new forward
};

struct Forwarder::Impl : std::enable_shared_from_this<Forwarder::Impl> {
    Impl(async::EventLoops& l, ForwarderSettings s)
        : loops(l), settings(std::move(s)), base(parse_url(settings.base_url)), pools(l.size()) {}

    async::EventLoops& loops;
    const ForwarderSettings settings;
    const std::optional<Url> base;

    std::vector<LoopPool> pools;  // one per event loop
    std::atomic<uint64_t> next_id{0};
    std::atomic<uint64_t> requests{0};
    std::atomic<uint64_t> failures{0};
    std::atomic<uint64_t> connections_opened{0};

    std::optional<tcp::socket> take_idle(std::size_t loop) {
        auto& pool = pools[loop];
        std::lock_guard lock(pool.mutex);
        while (!pool.idle.empty()) {
            tcp::socket s = std::move(pool.idle.back());
            pool.idle.pop_back();
            if (still_open(s)) return s;
        }
        return std::nullopt;
    }

    void give_back(std::size_t loop, tcp::socket s) {
        auto& pool = pools[loop];
        std::lock_guard lock(pool.mutex);
        if (pool.idle.size() < settings.max_idle_connections) pool.idle.push_back(std::move(s));
    }

    std::unique_ptr<char[]> take_piece(std::size_t loop) {
        auto& pool = pools[loop];
        {
            std::lock_guard lock(pool.mutex);
            if (!pool.spare_pieces.empty()) {
                auto piece = std::move(pool.spare_pieces.back());
                pool.spare_pieces.pop_back();
                return piece;
            }
        }
        // Not zero-filled: it is written before it is read.
        return std::make_unique_for_overwrite<char[]>(read_piece);
    }

    void give_back_piece(std::size_t loop, std::unique_ptr<char[]> piece) {
        if (!piece) return;
        auto& pool = pools[loop];
        std::lock_guard lock(pool.mutex);
        if (pool.spare_pieces.size() < spare_pieces_per_loop) pool.spare_pieces.push_back(std::move(piece));
    }

    // Closes the connection when `after` passes; re-arming replaces the previous deadline.
    static void arm(const std::shared_ptr<Op>& op, std::chrono::milliseconds after) {
        op->watchdog.expires_after(after);
        op->watchdog.async_wait([weak = std::weak_ptr(op)](boost::system::error_code ec) {
            auto o = weak.lock();
            if (ec || !o || o->finished) return;
            o->timed_out = true;
            o->close_socket();
        });
    }

    asio::awaitable<Outcome> connect(const std::shared_ptr<Op>& op) {
        // The name is looked up inside the connect timeout: a name server that does not answer
        // makes a model server that cannot be reached.
        const auto started = std::chrono::steady_clock::now();
        const auto resolved = co_await resolve_within(op->executor, base->host, base->port, settings.connect_timeout);
        if (op->cancelled) co_return Outcome{CPPW_CANCELLED, "the request finished first"};
        if (!resolved) {
            co_return Outcome{CPPW_UPSTREAM_TIMEOUT, fmt::format("looking up the model server's name {} took over {} ms",
                                                                 base->host, settings.connect_timeout.count())};
        }
        if (resolved->error) {
            co_return Outcome{CPPW_UPSTREAM_UNREACHABLE,
                              fmt::format("cannot resolve {}: {}", base->host, resolved->error.message())};
        }
        const auto endpoints = resolved->endpoints;
        arm(op, std::max(std::chrono::milliseconds(1),
                         settings.connect_timeout - std::chrono::duration_cast<std::chrono::milliseconds>(
                                                        std::chrono::steady_clock::now() - started)));
        op->socket.emplace(op->executor);
        auto [ec, endpoint] = co_await asio::async_connect(*op->socket, endpoints, tuple_awaitable);
        if (op->cancelled) co_return Outcome{CPPW_CANCELLED, "the request finished first"};
        if (op->timed_out) {
            co_return Outcome{CPPW_UPSTREAM_TIMEOUT,
                              fmt::format("connecting to the model server at {}:{} took over {} ms", base->host,
                                          base->port, settings.connect_timeout.count())};
        }
        if (ec) {
            co_return Outcome{CPPW_UPSTREAM_UNREACHABLE, fmt::format("cannot connect to the model server at {}:{}: {}",
                                                                     base->host, base->port, ec.message())};
        }
        ++connections_opened;
        op->socket->set_option(tcp::no_delay(true), ec);
        co_return Outcome{CPPW_OK, {}};
    }

    Outcome broken(const Op& op, const boost::system::error_code& ec, std::string_view while_doing) const {
        if (op.cancelled) return Outcome{CPPW_CANCELLED, "the request finished first"};
        if (op.timed_out) {
            return Outcome{CPPW_UPSTREAM_TIMEOUT, fmt::format("the model server sent nothing for {} ms while {}",
                                                              settings.response_timeout.count(), while_doing)};
        }
        if (ec.category() == make_error_code(http::error::end_of_stream).category() && ec != http::error::end_of_stream &&
            ec != http::error::partial_message) {
            return Outcome{CPPW_ERROR, fmt::format("the model server's answer is malformed: {}", ec.message())};
        }
        return Outcome{CPPW_UPSTREAM_UNREACHABLE,
                       fmt::format("the model server closed the connection while {}: {}", while_doing, ec.message())};
    }

    // Pauses reading while the client is behind with what it was sent.
    static asio::awaitable<void> wait_for_client(const std::shared_ptr<Op>& op) {
        if (!op->pending->over_high_water()) co_return;
        auto wake = std::make_shared<asio::steady_timer>(op->executor, asio::steady_timer::time_point::max());
        op->pending->when_drained([weak = std::weak_ptr(wake), executor = op->executor] {
            asio::post(executor, [weak] {
                if (auto timer = weak.lock()) timer->cancel();
            });
        });
        co_await wake->async_wait(tuple_awaitable);
    }

    asio::awaitable<Outcome> exchange(std::shared_ptr<Op> op) {
        if (!base) {
            co_return Outcome{CPPW_UPSTREAM_UNREACHABLE,
                              settings.base_url.empty()
                                  ? "no model server is configured: set MODEL_SERVER_URL"
                                  : fmt::format("MODEL_SERVER_URL '{}' is not an http URL", settings.base_url)};
        }
        if (base->scheme != "http") {
            co_return Outcome{CPPW_UPSTREAM_UNREACHABLE, "forwarding speaks plain http to the model server, not https"};
        }
        const std::string request_bytes = request_head(op->call, *base);
        const std::array<asio::const_buffer, 2> request{asio::buffer(request_bytes), asio::buffer(op->call.body)};

        beast::flat_buffer buffer;
        std::optional<http::response_parser<http::buffer_body>> parser;
        // A kept-alive connection may have been closed by the model server just as we took it: then
        // the request goes again, once, on a new connection.
        for (int attempt = 0;; ++attempt) {
            op->socket = take_idle(op->loop);
            const bool reused = op->socket.has_value();
            if (!reused) {
                auto connected = co_await connect(op);
                if (connected.status != CPPW_OK) co_return connected;
            }
            if (op->cancelled) co_return Outcome{CPPW_CANCELLED, "the request finished first"};
            arm(op, settings.response_timeout);
            auto [wec, wn] = co_await asio::async_write(*op->socket, request, tuple_awaitable);
            parser.emplace();
            parser->body_limit(boost::none);
            parser->header_limit(64 * 1024);
            buffer.clear();
            boost::system::error_code ec = wec;
            if (!ec) std::tie(ec, wn) = co_await http::async_read_header(*op->socket, buffer, *parser, tuple_awaitable);
            if (!ec) break;
            const bool stale = reused && attempt == 0 && !op->cancelled && !op->timed_out && !parser->got_some() &&
                               (ec == http::error::end_of_stream || ec == asio::error::connection_reset ||
                                ec == asio::error::broken_pipe || ec == asio::error::eof);
            if (!stale) co_return broken(*op, ec, "the request was sent");
            op->close_socket();
            spdlog::debug("forward {}: kept-alive connection was closed by the model server; reconnecting", op->id);
        }

        auto& res = parser->get();
        UpstreamHead head;
        head.status = res.result_int();
        head.content_type = res[http::field::content_type];
        for (const auto& field : res) head.headers.emplace_back(field.name_string(), field.value());
        head.streaming = is_streaming_answer(head.content_type, parser->chunked());
        op->sink->head(head);
        const bool whole = op->sink->keeps_whole_body();

        // None at all for a body-less answer.
        // Weak: a forward still suspended when the worker stops is destroyed with its event loop,
        // after the forwarder is gone; its buffer then just goes.
        struct PieceLease {
            std::weak_ptr<Impl> impl;
            std::size_t loop;
            std::unique_ptr<char[]> piece;
            ~PieceLease() {
                if (const auto forwarder = impl.lock()) forwarder->give_back_piece(loop, std::move(piece));
            }
        } lease{weak_from_this(), op->loop, parser->is_done() ? nullptr : take_piece(op->loop)};
        char* const piece = lease.piece.get();
        std::size_t total = 0;
        while (!parser->is_done()) {
            arm(op, settings.response_timeout);
            res.body().data = piece;
            res.body().size = read_piece;
            auto [ec, n] = co_await http::async_read_some(*op->socket, buffer, *parser, tuple_awaitable);
            if (ec == http::error::need_buffer) ec = {};
            if (ec) co_return broken(*op, ec, "its answer was being read");
            const std::size_t got = read_piece - res.body().size;
            if (got == 0) continue;
            total += got;
            if (whole && total > settings.max_body_bytes) {
                co_return Outcome{CPPW_ERROR, fmt::format("the model server's answer is over {} bytes",
                                                          settings.max_body_bytes)};
            }
            op->sink->data(std::string_view(piece, got));
            if (op->cancelled) co_return Outcome{CPPW_CANCELLED, "the request finished first"};
            co_await wait_for_client(op);
        }
        op->watchdog.cancel();
        if (parser->keep_alive() && !op->cancelled && !op->timed_out) {
            give_back(op->loop, std::move(*op->socket));
            op->socket.reset();
        }
        co_return Outcome{CPPW_OK, {}};
    }

    void finish(const std::shared_ptr<Op>& op, Outcome outcome) {
        op->watchdog.cancel();
        op->close_socket();
        {
            auto& pool = pools[op->loop];
            std::lock_guard lock(pool.mutex);
            pool.live.erase(op->id);
            if (op->finished) return;  // abandoned at shutdown
            op->finished = true;
        }
        if (outcome.status != CPPW_OK && outcome.status != CPPW_CANCELLED) {
            ++failures;
            spdlog::warn("request {}: forward to the model server failed: {}", op->pending->id(), outcome.message);
        }
        op->sink->done(outcome.status, outcome.message);
    }

    asio::awaitable<void> run(std::shared_ptr<Op> op) {
        Outcome outcome{CPPW_ERROR, "internal error"};
        try {
            outcome = co_await exchange(op);
        } catch (const std::exception& e) {
            outcome = Outcome{CPPW_ERROR, logging::error_text(e)};
        }
        finish(op, std::move(outcome));
    }
};

Forwarder::Forwarder(async::EventLoops& loops, ForwarderSettings settings)
    : impl_(std::make_shared<Impl>(loops, std::move(settings))) {}

Forwarder::~Forwarder() = default;

void Forwarder::start(std::shared_ptr<requests::PendingRequest> pending, UpstreamCall call,
                      std::unique_ptr<AnswerSink> sink) {
    auto& impl = *impl_;
    // On the calling connection's own loop, when a connection's thread calls.
    const std::size_t loop = impl.loops.here_or_next();
    auto& pool = impl.pools[loop];
    std::shared_ptr<Op> op;
    {
        std::lock_guard lock(pool.mutex);
        if (pool.stopped) {
            sink->done(CPPW_CANCELLED, "the worker shut down");
            return;
        }
        op = std::make_shared<Op>(loop, impl.next_id++, impl.loops.at(loop).get_executor(), pending, std::move(call),
                                  std::move(sink));
        pool.live.emplace(op->id, op);
    }
    ++impl.requests;
    // The moment the request is completed or its client leaves, the model server sees the
    // connection close.
    const auto abort = [weak = std::weak_ptr(op)] {
        auto o = weak.lock();
        if (!o) return;
        asio::post(o->executor, [o] {
            if (o->finished) return;
            o->cancelled = true;
            o->close_socket();
        });
    };
    if (!pending->on_finish(abort)) abort();
    asio::co_spawn(op->executor, impl.run(op), asio::detached);
}

void Forwarder::abandon_all() {
    std::vector<std::shared_ptr<Op>> left;
    for (auto& pool : impl_->pools) {
        std::lock_guard lock(pool.mutex);
        pool.stopped = true;
        for (auto& [id, op] : pool.live) {
            if (!op->finished) left.push_back(op);
            op->finished = true;
        }
        pool.live.clear();
    }
    for (auto& op : left) op->sink->done(CPPW_CANCELLED, "the worker shut down");
}

ForwarderStats Forwarder::stats() const {
    std::size_t idle = 0;
    for (auto& pool : impl_->pools) {
        std::lock_guard lock(pool.mutex);
        idle += pool.idle.size();
    }
    return ForwarderStats{impl_->requests.load(), impl_->failures.load(), impl_->connections_opened.load(), idle};
}

}  // namespace cppworker::upstream
