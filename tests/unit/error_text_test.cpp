#include "logging/error_text.hpp"

#include <boost/asio/error.hpp>
#include <boost/system/system_error.hpp>
#include <catch2/catch.hpp>

#include <stdexcept>

using cppworker::logging::error_text;

TEST_CASE("error text: a Boost system error reads as its plain message, without a source location",
          "[unit][logging]") {
    // BOOST_CURRENT_LOCATION is what Asio attaches when it throws, and what() then names the file.
    static constexpr boost::source_location here = BOOST_CURRENT_LOCATION;
    const boost::system::error_code ec(boost::asio::error::connection_refused, &here);
    const boost::system::system_error bare(ec);
    REQUIRE(std::string(bare.what()).find(" at ") != std::string::npos);
    CHECK(error_text(bare) == "Connection refused");
    CHECK(error_text(boost::system::system_error(ec, "connect")) == "connect: Connection refused");
    CHECK(error_text(ec) == "Connection refused");
}

TEST_CASE("error text: other exceptions keep their what()", "[unit][logging]") {
    CHECK(error_text(std::runtime_error("the model server's answer is malformed")) ==
          "the model server's answer is malformed");
}
