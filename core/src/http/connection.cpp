#include "http/connection.hpp"

#include "http1/answer_head.hpp"
#include "http1/head_arena.hpp"
#include "logging/error_text.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <array>
#include <exception>
#include <memory>
#include <optional>

namespace cppworker::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using asio::awaitable;
using asio::use_awaitable;
constexpr auto tuple_awaitable = asio::as_tuple(use_awaitable);
using http1::answer_head;
using http1::bodiless;
using http1::Framing;

// A request is parsed into its connection's arena: its fields, target and body, which a request
// through a proxy (a Vast envelope of about 600 bytes, a dozen fields) fits.
using RequestArena = http1::HeadArena<2048>;
using RequestBody = bhttp::basic_string_body<char, std::char_traits<char>, http1::ArenaAllocator>;
using RequestParser = bhttp::request_parser<RequestBody, http1::ArenaAllocator>;
using Request = RequestParser::value_type;

// One client connection, over plain TCP (beast::tcp_stream) or TLS (beast::ssl_stream of one):
// the same code serves both, so timeouts, limits and logs are alike.
template <class Stream>
struct Connection : std::enable_shared_from_this<Connection<Stream>> {
    Connection(ConnectionParts& p, Stream s)
        : parts(p), stream(std::move(s)), read_deadline(beast::get_lowest_layer(stream).get_executor()) {}

    ConnectionParts& parts;
    Stream stream;
    beast::flat_buffer buffer;
    RequestArena arena;
    // What the answers' writes frame their heads and chunks into: kept from one request to the
    // next, up to a size an idle connection may hold on to.
    std::string out;
    static constexpr std::size_t out_kept_bytes = 4096;
    // The deadline of the request being read; a generation per read, so that an expiry already
    // on its way when the read ended does not cut the next one.
    asio::steady_timer read_deadline;
    uint64_t read_generation = 0;
    bool read_timed_out = false;
    // The client while a request is answered (RequestClient::wait): one read watches it for the
    // whole request.
    struct Watch {
        bool reading = false;
        bool gone = false;
        bool pipelined = false;  // a pipelined request's bytes arrived: kept, and watching stops
        asio::steady_timer* waiting = nullptr;
    } watch;
    bool idle = true;  // between requests; only touched on the connection's event loop
    // No request read yet. The drain does not close such a connection at once as idle: its client
    // has most likely sent its request already (it connected before we stopped accepting, maybe
    // to a socket another worker process now accepts on), so that one request is served.
    bool fresh = true;
    std::string peer;

    // Timeouts, cancellation and the peer live on the TCP layer, under TLS if there is one.
    beast::tcp_stream& tcp() { return beast::get_lowest_layer(stream); }
};

template <class Stream>
constexpr bool is_tls = !std::is_same_v<Stream, beast::tcp_stream>;

// One chunk of a chunked body, framed as Beast frames it (no extensions). An empty piece would
// read as the last chunk, so there is none.
void append_chunk(std::string& out, std::string_view piece) {
    if (piece.empty()) return;
    fmt::format_to(std::back_inserter(out), "{:x}\r\n", piece.size());
    out.append(piece);
    out += "\r\n";
}

// A whole answer to a request that could not be read, or to a connection turned away; the
// connection closes after it.
template <class Stream>
awaitable<void> write_early_reply(Connection<Stream>& c, unsigned status, std::string_view message) {
    const auto reply = http1::error_reply(status, message);
    std::string head;
    answer_head(head, 11, status, reply.content_type, reply.headers, Framing::length, reply.body.size(), false);
    const std::array<asio::const_buffer, 2> answer{asio::buffer(head), asio::buffer(reply.body)};
    c.tcp().expires_after(std::chrono::seconds(5));
    co_await asio::async_write(c.stream, answer, tuple_awaitable);
}

// The client of one request, as the pipeline and the built-in routes see it: what they write
// goes out framed for the request's HTTP version and the connection's keep-alive.
template <class Stream>
class RequestClient final : public pipeline::ClientPort {
public:
    RequestClient(Connection<Stream>& c, unsigned version, bool keep_alive)
        : c_(c), version_(version), keep_alive_(keep_alive) {
        c_.watch = {};
    }

    ~RequestClient() override {
        if (c_.out.capacity() > Connection<Stream>::out_kept_bytes) std::string().swap(c_.out);
    }

    // The head goes out with the body in one write.
    awaitable<bool> write_whole(http1::Reply& reply, bool close) override {
        written_status = reply.status;
        if (bodiless(reply.status)) reply.body.clear();
        c_.out.clear();
        answer_head(c_.out, version_, reply.status, reply.content_type, reply.headers, Framing::length,
                    reply.body.size(), keeps_alive() && !close);
        const std::array<asio::const_buffer, 2> answer{asio::buffer(c_.out), asio::buffer(reply.body)};
        c_.tcp().expires_after(c_.parts.settings.read_timeout);
        auto [ec, n] = co_await asio::async_write(c_.stream, answer, tuple_awaitable);
        co_return !ec;
    }

    // Framed into the connection's buffer: a stream writes once per event.
    awaitable<bool> write_stream(const pipeline::StreamPiece& piece) override {
        auto& out = c_.out;
        out.clear();
        if (piece.head) {
            written_status = piece.head->status;
            answer_head(out, version_, piece.head->status, piece.head->content_type, piece.head->headers,
                        Framing::chunked, 0, keeps_alive());
        }
        for (const auto chunk : piece.chunks) append_chunk(out, chunk);
        if (piece.end) out += "0\r\n\r\n";
        c_.tcp().expires_after(c_.parts.settings.read_timeout);
        auto [ec, n] = co_await asio::async_write(c_.stream, asio::buffer(out), tuple_awaitable);
        co_return !ec;
    }

    // Watches the client while waiting, unless a pipelined request's bytes arrived: those are
    // kept, and watching stops.
    awaitable<bool> wait(asio::steady_timer& wake) override {
        auto& watch = c_.watch;
        if (watch.gone) co_return false;
        if (!watch.pipelined && !watch.reading) start_watching();
        watch.waiting = &wake;
        co_await wake.async_wait(tuple_awaitable);
        watch.waiting = nullptr;
        co_return !watch.gone;
    }

    // Ends the watch before the connection reads on: after the pipeline is done with the request.
    awaitable<void> stop_watching() {
        if (!c_.watch.reading) co_return;
        c_.tcp().socket().cancel();
        while (c_.watch.reading) co_await asio::post(co_await asio::this_coro::executor, use_awaitable);
    }

    // Cancels the watch's read too; the next wait starts another.
    void interrupt_write() override { c_.tcp().socket().cancel(); }

    std::string_view peer() const override { return c_.peer; }

private:
    // One read watches the client for the whole request, not one per wait: a stream waits once per
    // event, and starting and cancelling a read each time cost a system call and a reactor
    // registration per event. It may be under way while an answer is written (one read and one
    // write at a time is what both streams allow); a read pending keeps its timer at never, since
    // the stream only re-arms the timers of operations not under way. The request's client never
    // ends with the read under way (stop_watching), the connection may: its loop shutting down.
    void start_watching() {
        c_.tcp().expires_never();
        c_.watch.reading = true;
        c_.stream.async_read_some(c_.buffer.prepare(4096),
                                  [weak = c_.weak_from_this()](boost::system::error_code ec, std::size_t n) {
                                      const auto c = weak.lock();
                                      if (!c) return;
                                      auto& watch = c->watch;
                                      watch.reading = false;
                                      if (n > 0) {
                                          c->buffer.commit(n);
                                          watch.pipelined = true;
                                      } else if (ec != asio::error::operation_aborted) {
                                          watch.gone = true;
                                      }
                                      if (watch.waiting != nullptr) watch.waiting->cancel();
                                  });
    }

    bool keeps_alive() const { return keep_alive_ && !c_.parts.tracker.draining(); }

    Connection<Stream>& c_;
    const unsigned version_;
    const bool keep_alive_;
};

// Answers one request; false when the connection must close afterwards.
template <class Stream>
awaitable<bool> serve_request(Connection<Stream>& c, const Request& req) {
    auto& parts = c.parts;
    const bool keep_alive = req.keep_alive() && !parts.tracker.draining();
    RequestClient<Stream> client(c, req.version(), keep_alive);
    const std::string_view target = req.target();
    const auto q = target.find('?');
    const auto path = target.substr(0, q);
    const auto query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);

    if (auto reply = parts.builtins.answer(req.method_string(), path, req.body(), req[bhttp::field::authorization])) {
        co_return co_await client.write_whole(*reply, false) && keep_alive;
    }
    const auto match = parts.pipeline.router().match(req.method_string(), path);
    if (std::holds_alternative<pipeline::PathNotFound>(match)) {
        auto reply = http1::error_reply(404, fmt::format("no route {}", path));
        co_return co_await client.write_whole(reply, false) && keep_alive;
    }
    if (const auto* wrong = std::get_if<pipeline::MethodNotAllowed>(&match)) {
        auto reply = http1::error_reply(405, fmt::format("{} takes {}, not {}", path, wrong->allow, req.method_string()));
        reply.headers.emplace_back("Allow", wrong->allow);
        co_return co_await client.write_whole(reply, false) && keep_alive;
    }
    const pipeline::Pipeline::RouteRequest request{std::get<pipeline::RouteFound>(match).index, path, query, req.body()};
    // The client's watch ends before anything else reads the connection, however serving ended.
    bool served = false;
    std::exception_ptr failed;
    try {
        served = co_await parts.pipeline.serve(client, request);
    } catch (...) {
        failed = std::current_exception();
    }
    co_await client.stop_watching();
    if (failed) std::rethrow_exception(failed);
    co_return served && keep_alive;
}

// What a request that could not be read gets, if anything: nothing when the client just left.
std::optional<std::pair<unsigned, std::string>> read_failure_answer(const boost::system::error_code& ec, bool started,
                                                                    bool timed_out, const ConnectionSettings& limits) {
    if (timed_out && started) return std::pair{408u, std::string("the request took too long to arrive")};
    if (ec == bhttp::error::body_limit) {
        return std::pair{413u, fmt::format("request body over {} bytes", limits.max_body_bytes)};
    }
    if (ec == bhttp::error::header_limit) {
        return std::pair{431u, fmt::format("request head over {} bytes", limits.max_header_bytes)};
    }
    if (started && ec != bhttp::error::end_of_stream && ec != asio::error::connection_reset &&
        ec != asio::error::operation_aborted) {
        return std::pair{400u, fmt::format("malformed request: {}", ec.message())};
    }
    return std::nullopt;
}

// Reads the next request; answers read errors itself. Empty when the connection is done.
template <class Stream>
awaitable<std::optional<Request>> read_request(Connection<Stream>& c) {
    const auto& limits = c.parts.settings;
    c.arena.reset();
    RequestParser parser(std::piecewise_construct, std::make_tuple(c.arena.allocator()),
                         std::make_tuple(c.arena.allocator()));
    parser.body_limit(limits.max_body_bytes);
    parser.header_limit(static_cast<uint32_t>(limits.max_header_bytes));
    // Our own deadline rather than the stream's: the stream's closes the socket, and a slow client
    // is owed a 408 on it.
    c.tcp().expires_never();
    c.read_timed_out = false;
    c.read_deadline.expires_after(limits.read_timeout);
    c.read_deadline.async_wait([weak = c.weak_from_this(), generation = ++c.read_generation](boost::system::error_code ec) {
        const auto conn = weak.lock();
        if (ec || !conn || conn->read_generation != generation) return;
        conn->read_timed_out = true;
        conn->tcp().socket().cancel();
    });
    c.idle = true;
    boost::system::error_code ec;
    std::size_t n = 0;
    std::tie(ec, n) = co_await bhttp::async_read_header(c.stream, c.buffer, parser, tuple_awaitable);
    c.idle = false;
    // Beast holds the start line and the fields to the limit each, so a head can pass it by up to a
    // start line's length; `n` is the whole head.
    if (!ec && n > limits.max_header_bytes) ec = bhttp::error::header_limit;
    if (!ec && !parser.is_done()) {
        // curl and others wait (a second, for curl) for this before sending a large body.
        if (beast::iequals(parser.get()[bhttp::field::expect], "100-continue")) {
            bhttp::response<bhttp::empty_body> go_on{bhttp::status::continue_, 11};
            std::tie(ec, n) = co_await bhttp::async_write(c.stream, go_on, tuple_awaitable);
        }
        if (!ec) std::tie(ec, n) = co_await bhttp::async_read(c.stream, c.buffer, parser, tuple_awaitable);
    }
    ++c.read_generation;
    c.read_deadline.cancel();
    if (!ec) co_return parser.release();

    const bool started = parser.got_some() || c.buffer.size() > 0;
    if (c.read_timed_out && started) spdlog::info("client {} was too slow sending its request; 408", c.peer);
    if (const auto answer = read_failure_answer(ec, started, c.read_timed_out, limits)) {
        co_await write_early_reply(c, answer->first, answer->second);
    }
    co_return std::nullopt;
}

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

// What the drain may do to this connection, on its own loop.
template <class Stream>
ConnectionTracker::Control drain_control(const std::shared_ptr<Connection<Stream>>& c, asio::any_io_executor executor) {
    return [weak = std::weak_ptr(c), executor](ConnectionTracker::DrainStep step) {
        asio::post(executor, [weak, step] {
            auto conn = weak.lock();
            if (!conn) return;
            if (step == ConnectionTracker::DrainStep::deadline) return conn->tcp().cancel();
            if (!conn->idle) return;
            if (!conn->fresh) return conn->tcp().cancel();
            // A client that connected just before we stopped accepting sends its request within
            // moments; one that sends nothing is not waited for beyond a short grace.
            auto grace = std::make_shared<asio::steady_timer>(conn->tcp().get_executor(), std::chrono::seconds(2));
            grace->async_wait([weak, grace](boost::system::error_code ec) {
                if (auto late = weak.lock(); !ec && late && late->idle && late->fresh) late->tcp().cancel();
            });
        });
    };
}

template <class Stream>
awaitable<void> serve(ConnectionParts& parts, Stream stream, ConnectionTracker::Ticket ticket) {
    auto c = std::make_shared<Connection<Stream>>(parts, std::move(stream));
    boost::system::error_code ec;
    const auto remote = c->tcp().socket().remote_endpoint(ec);
    c->peer = ec ? "?" : fmt::format("{}:{}", remote.address().to_string(), remote.port());

    const auto guard =
        parts.tracker.open(std::move(ticket), drain_control(c, co_await asio::this_coro::executor));
    if constexpr (is_tls<Stream>) {
        // A client gets as long for its handshake as for a request.
        c->tcp().expires_after(parts.settings.read_timeout);
        auto [handshake_ec] = co_await c->stream.async_handshake(asio::ssl::stream_base::server, tuple_awaitable);
        if (handshake_ec) {
            spdlog::debug("client {}: TLS handshake failed: {}", c->peer, handshake_ec.message());
            c->tcp().close();
            co_return;
        }
    }
    if (!guard) {
        co_await write_early_reply(*c, 503, "too many open connections");
        co_await close_connection(*c);
        co_return;
    }
    try {
        // After a drain began, a connection ends with the answer it was busy with, or, if it had
        // none yet, with the answer to its first request.
        while (c->fresh || !parts.tracker.draining()) {
            auto req = co_await read_request(*c);
            c->fresh = false;
            if (!req || !co_await serve_request(*c, *req)) break;
        }
    } catch (const std::exception& e) {
        spdlog::error("connection {}: {}", c->peer, logging::error_text(e));
    }
    co_await close_connection(*c);
}

}  // namespace

// Not a coroutine itself: the connection's coroutine is the only frame it keeps.
awaitable<void> serve_connection(ConnectionParts& parts, asio::ip::tcp::socket socket, ConnectionTracker::Ticket ticket,
                                 asio::ssl::context* tls) {
    if (tls) {
        return serve(parts, beast::ssl_stream<beast::tcp_stream>(beast::tcp_stream(std::move(socket)), *tls),
                     std::move(ticket));
    }
    return serve(parts, beast::tcp_stream(std::move(socket)), std::move(ticket));
}

}  // namespace cppworker::http
