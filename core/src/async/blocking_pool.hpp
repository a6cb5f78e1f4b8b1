#pragma once

#include "async/call_count.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include <chrono>
#include <cstddef>
#include <utility>

namespace cppworker::async {

// The threads that run calls which may block (a plugin's CPPW_ROUTE_BLOCKING handle), never on an
// event loop. Counts the calls posted and not yet returned, so shutdown can wait for them.
class BlockingPool {
public:
    explicit BlockingPool(unsigned threads) : pool_(threads) {}
    ~BlockingPool() { pool_.join(); }
    BlockingPool(const BlockingPool&) = delete;
    BlockingPool& operator=(const BlockingPool&) = delete;

    template <class Call>
    void post(Call call) {
        calls_.begin();
        boost::asio::post(pool_, [this, call = std::move(call)]() mutable {
            struct Ended {
                CallCount& calls;
                ~Ended() { calls.end(); }
            } ended{calls_};
            call();
        });
    }

    // True once no call runs; false when `limit` passed first.
    bool wait_idle(std::chrono::milliseconds limit) { return calls_.wait_idle(limit); }
    std::size_t running() const { return calls_.running(); }

private:
    CallCount calls_;
    boost::asio::thread_pool pool_;
};

}  // namespace cppworker::async
