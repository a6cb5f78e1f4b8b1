#include "upstream/forwarder.hpp"

#include "async/event_loops.hpp"
#include "async/wakeup.hpp"
#include "http1/head_arena.hpp"
#include "http1/resolve.hpp"
#include "http1/url.hpp"
#include "logging/error_text.hpp"
#include "upstream/answer_rules.hpp"
#include "upstream/loop_pool.hpp"
#include "upstream/request_head.hpp"

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
#include <boost/intrusive/list.hpp>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <optional>

namespace cppworker::upstream {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using LoopExecutor = asio::io_context::executor_type;
constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

struct Outcome {
    cppw_status status;
    std::string message;
};

}  // namespace

// One forward in flight. Everything but `finished` and `live` at shutdown is touched on its loop's
// thread only.
struct Op : std::enable_shared_from_this<Op> {
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
    std::chrono::steady_clock::time_point deadline;  // when the watchdog closes the connection
    bool watchdog_armed = false;
    bool finished = false;   // the sink heard done
    bool cancelled = false;  // the request finished first
    bool timed_out = false;
    // The request's head is written here, and the answer's parsed here and read through a buffer
    // that lives here: the head's bytes, its fields and the buffer cost no allocation each. A
    // streamed answer keeps the buffer for its whole length.
    http1::HeadArena<1536> arena;
    // In its loop's list of forwards in flight (LoopForwards) from start to finish: linked in
    // place, where a map would take a node per forward.
    boost::intrusive::list_member_hook<> live;

    void close_socket() {
        if (!socket) return;
        boost::system::error_code ec;
        socket->shutdown(tcp::socket::shutdown_both, ec);
        socket->close(ec);
    }
};

// The forwards in flight on one event loop, for abandon_all at shutdown.
struct LoopForwards {
    std::mutex mutex;
    // Each is kept alive by its coroutine until finish() takes it out. One still suspended when
    // the worker stops outlives the list: the forwarder goes before the event loops that hold it.
    boost::intrusive::list<Op, boost::intrusive::member_hook<Op, boost::intrusive::list_member_hook<>, &Op::live>> live;
    bool stopped = false;  // abandon_all ran: nothing will run a new forward
};

struct Forwarder::Impl : std::enable_shared_from_this<Forwarder::Impl> {
    Impl(async::EventLoops& l, ForwarderSettings s)
        : loops(l), settings(std::move(s)), base(http1::parse_url(settings.base_url)), pools(l.size()),
          forwards(l.size()) {}

    async::EventLoops& loops;
    const ForwarderSettings settings;
    const std::optional<http1::Url> base;

    std::vector<LoopPool> pools;         // one per event loop
    std::vector<LoopForwards> forwards;  // one per event loop
    std::atomic<uint64_t> next_id{0};
    std::atomic<uint64_t> requests{0};
    std::atomic<uint64_t> failures{0};
    std::atomic<uint64_t> connections_opened{0};

    // Closes the connection when `after` passes; re-arming replaces the previous deadline. A later
    // deadline leaves the timer alone: it wakes at the old one and sleeps on to the new. Re-arming
    // the timer itself on every read cost a cancelled wait and a new one per streamed event.
    static void arm(const std::shared_ptr<Op>& op, std::chrono::milliseconds after) {
        op->deadline = std::chrono::steady_clock::now() + after;
        if (op->watchdog_armed && op->watchdog.expiry() <= op->deadline) return;
        watch(op);
    }

    static void watch(const std::shared_ptr<Op>& op) {
        op->watchdog_armed = true;
        op->watchdog.expires_at(op->deadline);
        op->watchdog.async_wait([weak = std::weak_ptr(op)](boost::system::error_code ec) {
            auto o = weak.lock();
            if (ec || !o || o->finished || !o->watchdog_armed) return;
            if (std::chrono::steady_clock::now() < o->deadline) return watch(o);
            o->watchdog_armed = false;
            o->timed_out = true;
            o->close_socket();
        });
    }

    static void disarm(Op& op) {
        op.watchdog_armed = false;
        op.watchdog.cancel();
    }

    asio::awaitable<Outcome> connect(const std::shared_ptr<Op>& op) {
        // The name is looked up inside the connect timeout: a name server that does not answer
        // makes a model server that cannot be reached.
        const auto started = std::chrono::steady_clock::now();
        const auto resolved = co_await http1::resolve_within(op->executor, base->host, base->port, settings.connect_timeout);
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
        async::Wakeup drained(op->executor);
        drained.timer().expires_at(asio::steady_timer::time_point::max());
        op->pending->when_drained(drained.waker());
        co_await drained.timer().async_wait(tuple_awaitable);
    }

    using Parser = http::response_parser<http::buffer_body, http1::ArenaAllocator>;
    using Buffer = beast::basic_flat_buffer<http1::ArenaAllocator>;

    // Sends the request and reads the answer's head. A kept-alive connection may have been closed
    // by the model server just as we took it: then the request goes again, once, on a new one.
    asio::awaitable<Outcome> send(const std::shared_ptr<Op>& op, std::optional<Buffer>& buffer,
                                  std::optional<Parser>& parser) {
        // The request's head and the answer's take the forward's arena in turn; a second attempt's
        // parser and buffer take more of it, the first's left where they were.
        op->arena.reset();
        std::pmr::string request_bytes(op->arena.allocator());
        request_head(request_bytes, op->call, *base);
        const std::array<asio::const_buffer, 2> request{asio::buffer(request_bytes), asio::buffer(op->call.body)};
        for (int attempt = 0;; ++attempt) {
            op->socket = pools[op->loop].take_idle(std::chrono::steady_clock::now(), settings.idle_lifetime);
            const bool reused = op->socket.has_value();
            if (!reused) {
                auto connected = co_await connect(op);
                if (connected.status != CPPW_OK) co_return connected;
            }
            if (op->cancelled) co_return Outcome{CPPW_CANCELLED, "the request finished first"};
            arm(op, settings.response_timeout);
            auto [ec, n] = co_await asio::async_write(*op->socket, request, tuple_awaitable);
            parser.reset();
            buffer.reset();
            parser.emplace(std::piecewise_construct, std::make_tuple(), std::make_tuple(op->arena.allocator()));
            parser->body_limit(boost::none);
            parser->header_limit(64 * 1024);
            buffer.emplace(op->arena.allocator());
            if (!ec) std::tie(ec, n) = co_await http::async_read_header(*op->socket, *buffer, *parser, tuple_awaitable);
            if (!ec) co_return Outcome{CPPW_OK, {}};
            const bool stale = reused && attempt == 0 && !op->cancelled && !op->timed_out && !parser->got_some() &&
                               (ec == http::error::end_of_stream || ec == asio::error::connection_reset ||
                                ec == asio::error::broken_pipe || ec == asio::error::eof);
            if (!stale) co_return broken(*op, ec, "the request was sent");
            op->close_socket();
            spdlog::debug("forward {}: kept-alive connection was closed by the model server; reconnecting", op->id);
        }
    }

    // Hands the answer's body to the sink piece by piece, as it arrives.
    asio::awaitable<Outcome> read_body(const std::shared_ptr<Op>& op, Buffer& buffer, Parser& parser) {
        const bool whole = op->sink->keeps_whole_body();
        // Weak: a forward still suspended when the worker stops is destroyed with its event loop,
        // after the forwarder is gone; its buffer then just goes.
        struct PieceLease {
            std::weak_ptr<Impl> impl;
            std::size_t loop;
            std::unique_ptr<char[]> piece;
            ~PieceLease() {
                if (const auto forwarder = impl.lock()) forwarder->pools[loop].give_back_piece(std::move(piece));
            }
        } lease{weak_from_this(), op->loop, pools[op->loop].take_piece()};
        char* const piece = lease.piece.get();
        auto& body = parser.get().body();
        std::size_t total = 0;
        while (!parser.is_done()) {
            arm(op, settings.response_timeout);
            body.data = piece;
            body.size = LoopPool::piece_size;
            auto [ec, n] = co_await http::async_read_some(*op->socket, buffer, parser, tuple_awaitable);
            if (ec == http::error::need_buffer) ec = {};
            if (ec) co_return broken(*op, ec, "its answer was being read");
            const std::size_t got = LoopPool::piece_size - body.size;
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
        co_return Outcome{CPPW_OK, {}};
    }

    // The answer's head, as views into the parser, to the sink. Not in the coroutine, whose frame
    // would carry room for the head's fields for the whole answer, too large for Asio to recycle.
    static void hand_head(Op& op, const Parser& parser) {
        const auto& res = parser.get();
        UpstreamHead head;
        head.status = res.result_int();
        head.content_type = res[http::field::content_type];
        for (const auto& field : res) head.headers.emplace_back(field.name_string(), field.value());
        head.streaming = is_streaming_answer(head.content_type, parser.chunked());
        op.sink->head(head);
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
        std::optional<Buffer> buffer;
        std::optional<Parser> parser;
        if (auto sent = co_await send(op, buffer, parser); sent.status != CPPW_OK) co_return sent;

        hand_head(*op, *parser);
        // A body-less answer takes no read buffer at all.
        if (!parser->is_done()) {
            if (auto read = co_await read_body(op, *buffer, *parser); read.status != CPPW_OK) co_return read;
        }
        disarm(*op);
        if (parser->keep_alive() && !op->cancelled && !op->timed_out) {
            pools[op->loop].give_back(std::move(*op->socket), settings.max_idle_connections, std::chrono::steady_clock::now());
            op->socket.reset();
        }
        co_return Outcome{CPPW_OK, {}};
    }

    void finish(const std::shared_ptr<Op>& op, Outcome outcome) {
        disarm(*op);
        op->close_socket();
        {
            auto& loop = forwards[op->loop];
            std::lock_guard lock(loop.mutex);
            if (op->live.is_linked()) loop.live.erase(loop.live.iterator_to(*op));
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
    auto& forwards = impl.forwards[loop];
    std::shared_ptr<Op> op;
    {
        std::lock_guard lock(forwards.mutex);
        if (forwards.stopped) {
            sink->done(CPPW_CANCELLED, "the worker shut down");
            return;
        }
        op = std::make_shared<Op>(loop, impl.next_id++, impl.loops.at(loop).get_executor(), pending, std::move(call),
                                  std::move(sink));
        forwards.live.push_back(*op);
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
    for (auto& loop : impl_->forwards) {
        std::lock_guard lock(loop.mutex);
        loop.stopped = true;
        for (auto& op : loop.live) {
            if (!op.finished) left.push_back(op.shared_from_this());
            op.finished = true;
        }
        loop.live.clear();
    }
    for (auto& op : left) op->sink->done(CPPW_CANCELLED, "the worker shut down");
}

metrics::UpstreamStats Forwarder::stats() const {
    std::size_t idle = 0;
    for (const auto& pool : impl_->pools) idle += pool.idle();
    return metrics::UpstreamStats{impl_->requests.load(), impl_->failures.load(), impl_->connections_opened.load(), idle};
}

}  // namespace cppworker::upstream
