#include "upstream/loop_pool.hpp"

#include <boost/asio/io_context.hpp>

#include <catch2/catch.hpp>

using cppworker::upstream::LoopPool;
using namespace std::chrono_literals;

namespace {

boost::asio::ip::tcp::socket open_socket(boost::asio::io_context& io) {
    boost::asio::ip::tcp::socket s(io);
    s.open(boost::asio::ip::tcp::v4());
    return s;
}

}  // namespace

TEST_CASE("loop pool: the connection given back last is reused while it is younger than the lifetime",
          "[unit][upstream]") {
    boost::asio::io_context io;
    LoopPool pool;
    const LoopPool::Clock::time_point t0{};
    auto first = open_socket(io);
    auto second = open_socket(io);
    const auto second_handle = second.native_handle();
    pool.give_back(std::move(first), 8, t0);
    pool.give_back(std::move(second), 8, t0 + 1s);

    auto taken = pool.take_idle(t0 + 4s, 4s);
    REQUIRE(taken);
    CHECK(taken->native_handle() == second_handle);
    CHECK(pool.idle() == 1);
}

TEST_CASE("loop pool: a connection idle for the lifetime is closed, and the older ones with it", "[unit][upstream]") {
    boost::asio::io_context io;
    LoopPool pool;
    const LoopPool::Clock::time_point t0{};
    pool.give_back(open_socket(io), 8, t0);
    pool.give_back(open_socket(io), 8, t0 + 1s);

    CHECK_FALSE(pool.take_idle(t0 + 5s, 4s));
    CHECK(pool.idle() == 0);
    CHECK_FALSE(pool.take_idle(t0 + 5s, 4s));
}

TEST_CASE("loop pool: no more than max_idle connections are kept", "[unit][upstream]") {
    boost::asio::io_context io;
    LoopPool pool;
    const LoopPool::Clock::time_point t0{};
    for (int i = 0; i < 3; ++i) pool.give_back(open_socket(io), 2, t0);
    CHECK(pool.idle() == 2);
}
