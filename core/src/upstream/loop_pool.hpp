#pragma once

#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace cppworker::upstream {

// What the forwards on one event loop reuse: kept-alive connections to the model server (sockets
// of that loop) and 64 KiB read buffers. Only that loop's thread takes and gives back; the lock is
// for the figures, read from anywhere.
class LoopPool {
public:
    static constexpr std::size_t piece_size = 64 * 1024;

    using Clock = std::chrono::steady_clock;

    // The kept-alive connection used last, if one was given back less than `lifetime` ago; older
    // ones are closed. Whether the model server closed it meanwhile is not asked (that cost a
    // system call per request): the forwarder finds out from the answer that does not come.
    std::optional<boost::asio::ip::tcp::socket> take_idle(Clock::time_point now, Clock::duration lifetime);
    // Kept for the next forward unless `max_idle` are kept already.
    void give_back(boost::asio::ip::tcp::socket socket, std::size_t max_idle, Clock::time_point now);
    std::size_t idle() const;

    // A read buffer of piece_size bytes, not zeroed (it is written before it is read).
    std::unique_ptr<char[]> take_piece();
    void give_back_piece(std::unique_ptr<char[]> piece);

private:
    static constexpr std::size_t spare_pieces = 4;

    mutable std::mutex mutex_;
    struct Idle {
        boost::asio::ip::tcp::socket socket;
        Clock::time_point since;
    };
    std::vector<Idle> idle_;
    std::vector<std::unique_ptr<char[]>> pieces_;
};

}  // namespace cppworker::upstream
