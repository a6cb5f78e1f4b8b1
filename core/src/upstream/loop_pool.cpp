#include "upstream/loop_pool.hpp"

#include <sys/socket.h>

#include <cerrno>

namespace cppworker::upstream {
namespace {

// An idle kept-alive connection the model server has since closed reads EOF at once; a live one
// has nothing to read.
bool still_open(boost::asio::ip::tcp::socket& s) {
    char c;
    const auto n = ::recv(s.native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

}  // namespace

std::optional<boost::asio::ip::tcp::socket> LoopPool::take_idle() {
    std::lock_guard lock(mutex_);
    while (!idle_.empty()) {
        auto socket = std::move(idle_.back());
        idle_.pop_back();
        if (still_open(socket)) return socket;
    }
    return std::nullopt;
}

void LoopPool::give_back(boost::asio::ip::tcp::socket socket, std::size_t max_idle) {
    std::lock_guard lock(mutex_);
    if (idle_.size() < max_idle) idle_.push_back(std::move(socket));
}

std::size_t LoopPool::idle() const {
    std::lock_guard lock(mutex_);
    return idle_.size();
}

std::unique_ptr<char[]> LoopPool::take_piece() {
    {
        std::lock_guard lock(mutex_);
        if (!pieces_.empty()) {
            auto piece = std::move(pieces_.back());
            pieces_.pop_back();
            return piece;
        }
    }
    return std::make_unique_for_overwrite<char[]>(piece_size);
}

void LoopPool::give_back_piece(std::unique_ptr<char[]> piece) {
    if (!piece) return;
    std::lock_guard lock(mutex_);
    if (pieces_.size() < spare_pieces) pieces_.push_back(std::move(piece));
}

}  // namespace cppworker::upstream
