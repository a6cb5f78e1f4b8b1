#include "fake_http_server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <sys/socket.h>

#include <atomic>
#include <list>
#include <mutex>
#include <thread>

namespace cppworker::test {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bh = beast::http;
using asio::ip::tcp;

struct FakeHttpServer::Impl {
    std::function<CannedAnswer(const ReceivedRequest&)> answer;
    asio::io_context io;
    tcp::acceptor acceptor{io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
    mutable std::mutex mutex;
    std::mutex answering;  // the test's function is not asked to be thread-safe
    std::vector<ReceivedRequest> received;
    std::vector<std::chrono::steady_clock::time_point> connection_times;
    std::atomic<bool> stopping{false};
    std::atomic<bool> refusing{false};
    std::atomic<std::size_t> connections{0};
    std::thread thread;

    // A connection and the thread serving it; the socket is shut at the end to end a blocking read.
    struct Served {
        std::shared_ptr<tcp::socket> socket;
        std::shared_ptr<std::atomic<bool>> done;
        std::thread thread;
    };
    std::list<Served> served;  // the accepting thread's, then the destructor's once it ended

    // Recorded in the order answered.
    CannedAnswer answer_one(ReceivedRequest r) {
        std::lock_guard lock(answering);
        auto a = answer(r);
        std::lock_guard record(mutex);
        received.push_back(std::move(r));
        return a;
    }

    void serve(tcp::socket& socket) {
        beast::flat_buffer buffer;
        beast::error_code ec;
        for (;;) {
            bh::request<bh::string_body> req;
            bh::read(socket, buffer, req, ec);
            if (ec) return;
            ReceivedRequest r{std::string(req.method_string()), std::string(req.target()), req.body(),
                              std::chrono::steady_clock::now()};
            const CannedAnswer a = answer_one(std::move(r));
            bh::response<bh::string_body> res{static_cast<bh::status>(a.status), 11};
            res.set(bh::field::content_type, a.content_type);
            res.body() = a.body;
            res.keep_alive(req.keep_alive());
            res.prepare_payload();
            bh::write(socket, res, ec);
            if (ec || !req.keep_alive()) return;
        }
    }

    void start_serving(tcp::socket socket) {
        std::erase_if(served, [](Served& s) {
            if (!*s.done) return false;
            s.thread.join();
            return true;
        });
        auto shared = std::make_shared<tcp::socket>(std::move(socket));
        auto done = std::make_shared<std::atomic<bool>>(false);
        served.push_back(Served{shared, done, std::thread([this, shared, done] {
                                    serve(*shared);
                                    *done = true;
                                })});
    }

    void stop_serving() {
        for (auto& s : served) {
            // On the descriptor itself: a thread may be blocked reading the socket.
            ::shutdown(s.socket->native_handle(), SHUT_RDWR);
            s.thread.join();
        }
        served.clear();
    }
};

FakeHttpServer::FakeHttpServer(Answerer answer)
    : impl_(std::make_unique<Impl>()) {
    impl_->answer = std::move(answer);
    impl_->thread = std::thread([impl = impl_.get()] {
        while (!impl->stopping) {
            beast::error_code ec;
            tcp::socket socket(impl->io);
            impl->acceptor.accept(socket, ec);
            if (ec || impl->stopping) return;
            {
                std::lock_guard lock(impl->mutex);
                impl->connection_times.push_back(std::chrono::steady_clock::now());
            }
            ++impl->connections;
            if (impl->refusing) continue;  // the socket closes as it goes out of scope
            impl->start_serving(std::move(socket));
        }
    });
}

FakeHttpServer::~FakeHttpServer() {
    impl_->stopping = true;
    // Unblock accept() with a connection of our own.
    beast::error_code ec;
    tcp::socket poke(impl_->io);
    poke.connect(impl_->acceptor.local_endpoint(), ec);
    impl_->thread.join();
    impl_->stop_serving();
}

void FakeHttpServer::set_refusing(bool refusing) { impl_->refusing = refusing; }

uint16_t FakeHttpServer::port() const { return impl_->acceptor.local_endpoint().port(); }

std::string FakeHttpServer::url() const { return "http://127.0.0.1:" + std::to_string(port()); }

std::vector<ReceivedRequest> FakeHttpServer::received() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->received;
}

std::size_t FakeHttpServer::connections() const { return impl_->connections; }

std::vector<std::chrono::steady_clock::time_point> FakeHttpServer::connection_times() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->connection_times;
}

bool FakeHttpServer::wait_for(std::size_t n, std::chrono::milliseconds timeout) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (received().size() >= n) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return received().size() >= n;
}

}  // namespace cppworker::test
