#include "http_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <cctype>
#include <cerrno>
#include <thread>
#include <sys/socket.h>
#include <sys/time.h>

namespace cppworker::test {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bh = beast::http;
using asio::ip::tcp;

struct HttpConnection::Impl {
    asio::io_context io;
    tcp::socket socket{io};
    beast::flat_buffer buffer;
};

namespace {

void set_read_timeout(tcp::socket& s, std::chrono::milliseconds t) {
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(t.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((t.count() % 1000) * 1000);
    ::setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

// The socket for reading, with its SO_RCVTIMEO honoured: asio's own blocking reads wait in poll()
// without a limit when recv() times out, so a hung server would stall the test forever.
struct TimedReads {
    tcp::socket& socket;

    template <class Buffers>
    std::size_t read_some(const Buffers& buffers, beast::error_code& ec) {
        const asio::mutable_buffer b = *asio::buffer_sequence_begin(buffers);
        const auto n = ::recv(socket.native_handle(), b.data(), b.size(), 0);
        if (n > 0) {
            ec = {};
            return static_cast<std::size_t>(n);
        }
        if (n == 0) {
            ec = asio::error::eof;
        } else {
            ec = errno == EAGAIN || errno == EWOULDBLOCK ? beast::error_code(asio::error::timed_out)
                                                         : beast::error_code(errno, boost::system::system_category());
        }
        return 0;
    }
    template <class Buffers>
    std::size_t read_some(const Buffers& buffers) {
        beast::error_code ec;
        const auto n = read_some(buffers, ec);
        if (ec) throw boost::system::system_error(ec);
        return n;
    }
};

template <class Message>
HttpResponse to_response(const Message& m) {
    HttpResponse r;
    r.status = static_cast<int>(m.result_int());
    r.keep_alive = m.keep_alive();
    for (const auto& f : m) {
        std::string name(f.name_string());
        for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        r.headers[name] = std::string(f.value());
    }
    return r;
}

bh::request<bh::string_body> make_request(std::string_view method, std::string_view target, std::string_view body,
                                              const std::map<std::string, std::string>& headers) {
    bh::request<bh::string_body> req{bh::string_to_verb(method), target, 11};
    req.set(bh::field::host, "127.0.0.1");
    for (const auto& [k, v] : headers) req.set(k, v);
    if (!body.empty() || method == "POST") {
        req.body() = std::string(body);
        if (req.find(bh::field::content_type) == req.end()) req.set(bh::field::content_type, "application/json");
    }
    req.prepare_payload();
    return req;
}

}  // namespace

HttpConnection::HttpConnection(uint16_t port, std::chrono::milliseconds timeout) : HttpConnection(port, timeout, 0) {}

HttpConnection::HttpConnection(uint16_t port, std::chrono::milliseconds timeout, int receive_buffer)
    : impl_(std::make_unique<Impl>()) {
    impl_->socket.open(tcp::v4());
    // Before connect: the window scale offered in the SYN follows from it.
    if (receive_buffer > 0) impl_->socket.set_option(asio::socket_base::receive_buffer_size(receive_buffer));
    impl_->socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    set_read_timeout(impl_->socket, timeout);
}

void HttpConnection::set_receive_buffer(int bytes) {
    impl_->socket.set_option(asio::socket_base::receive_buffer_size(bytes));
}

std::string HttpConnection::read_until_closed() {
    std::string out(static_cast<const char*>(impl_->buffer.data().data()), impl_->buffer.size());
    impl_->buffer.clear();
    TimedReads reads{impl_->socket};
    char piece[65536];
    for (;;) {
        beast::error_code ec;
        const auto n = reads.read_some(asio::buffer(piece), ec);
        out.append(piece, n);
        if (ec == asio::error::eof || ec == asio::error::connection_reset) return out;
        if (ec) throw boost::system::system_error(ec, "reading until the server closes");
    }
}

HttpConnection::~HttpConnection() = default;

HttpResponse HttpConnection::request(std::string_view method, std::string_view target, std::string_view body,
                                     const std::map<std::string, std::string>& headers) {
    bh::write(impl_->socket, make_request(method, target, body, headers));
    return read_response();
}

HttpResponse HttpConnection::read_response() {
    bh::response_parser<bh::string_body> parser;
    parser.body_limit(boost::none);
    TimedReads reads{impl_->socket};
    bh::read(reads, impl_->buffer, parser);
    auto r = to_response(parser.get());
    r.body = std::move(parser.get().body());
    return r;
}

std::pair<HttpResponse, std::vector<Chunk>> HttpConnection::stream(std::string_view method, std::string_view target,
                                                                   std::string_view body) {
    bh::write(impl_->socket, make_request(method, target, body, {}));
    bh::response_parser<bh::empty_body> parser;
    parser.body_limit(boost::none);
    std::vector<Chunk> chunks;
    auto on_body = [&](std::uint64_t, std::string_view data, beast::error_code&) {
        chunks.push_back(Chunk{std::chrono::steady_clock::now(), std::string(data)});
        return data.size();
    };
    parser.on_chunk_body(on_body);
    TimedReads reads{impl_->socket};
    bh::read_header(reads, impl_->buffer, parser);
    while (!parser.is_done()) bh::read_some(reads, impl_->buffer, parser);
    return {to_response(parser.get()), std::move(chunks)};
}

HttpConnection::StreamedAnswer HttpConnection::read_stream() {
    // A string body for an answer that is not chunked after all (an error the server wrote whole).
    bh::response_parser<bh::string_body> parser;
    parser.body_limit(boost::none);
    StreamedAnswer answer;
    // Beast keeps a reference to the callback: it must outlive the reads.
    auto on_body = [&](std::uint64_t, std::string_view data, beast::error_code&) {
        answer.body += data;
        return data.size();
    };
    parser.on_chunk_body(on_body);
    TimedReads reads{impl_->socket};
    bh::read_header(reads, impl_->buffer, parser);
    answer.head = to_response(parser.get());
    beast::error_code ec;
    while (!parser.is_done() && !ec) bh::read_some(reads, impl_->buffer, parser, ec);
    if (ec && ec != bh::error::partial_message && ec != asio::error::eof && ec != asio::error::connection_reset) {
        throw beast::system_error(ec);  // a timeout: the server neither finished nor closed
    }
    answer.complete = parser.is_done();
    if (!parser.chunked()) answer.body = parser.get().body();
    return answer;
}

void HttpConnection::send_raw(std::string_view bytes) { asio::write(impl_->socket, asio::buffer(bytes)); }

bool HttpConnection::closed_by_peer(std::chrono::milliseconds wait) {
    set_read_timeout(impl_->socket, wait);
    char c;
    beast::error_code ec;
    TimedReads{impl_->socket}.read_some(asio::buffer(&c, 1), ec);
    return ec == asio::error::eof || ec == asio::error::connection_reset;
}

void HttpConnection::close() {
    beast::error_code ec;
    impl_->socket.shutdown(tcp::socket::shutdown_both, ec);
    impl_->socket.close(ec);
}

HttpResponse http(uint16_t port, std::string_view method, std::string_view target, std::string_view body) {
    HttpConnection c(port);
    return c.request(method, target, body);
}

double metric(uint16_t port, std::string_view sample) {
    const auto body = http(port, "GET", "/metrics").body;
    const auto at = body.find("\n" + std::string(sample) + " ");
    if (at == std::string::npos) return -1;
    return std::stod(body.substr(at + sample.size() + 2));
}

bool wait_metric(uint16_t port, std::string_view sample, double value, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (metric(port, sample) == value) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
}

bool wait_metric_at_least(uint16_t port, std::string_view sample, double value, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (metric(port, sample) >= value) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
}

bool wait_ready(uint16_t port, int status, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        if (http(port, "GET", "/readyz").status == status) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
}

std::string joined(const std::vector<Chunk>& chunks) {
    std::string out;
    for (const auto& c : chunks) out += c.data;
    return out;
}

std::size_t count(std::string_view text, std::string_view what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string_view::npos; at = text.find(what, at + what.size())) ++n;
    return n;
}

}  // namespace cppworker::test
