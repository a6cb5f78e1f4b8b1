#include "upstream/loop_pool.hpp"

namespace cppworker::upstream {

std::optional<boost::asio::ip::tcp::socket> LoopPool::take_idle(Clock::time_point now, Clock::duration lifetime) {
    std::lock_guard lock(mutex_);
    if (idle_.empty()) return std::nullopt;
    if (now - idle_.back().since >= lifetime) {
        // The others were given back earlier still.
        idle_.clear();
        return std::nullopt;
    }
    auto socket = std::move(idle_.back().socket);
    idle_.pop_back();
    return socket;
}

void LoopPool::give_back(boost::asio::ip::tcp::socket socket, std::size_t max_idle, Clock::time_point now) {
    std::lock_guard lock(mutex_);
    if (idle_.size() < max_idle) idle_.push_back(Idle{std::move(socket), now});
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
