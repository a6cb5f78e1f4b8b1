#pragma once

#include <boost/system/error_code.hpp>

#include <exception>
#include <string>

namespace cppworker::logging {

// An error as an operator should read it: the reason in plain words ("Connection refused"), with
// the context the thrower gave, but without what Boost appends to what() for developers
// ("[system:111 at /usr/include/boost/asio/... in function ...]").
std::string error_text(const boost::system::error_code& ec);
std::string error_text(const std::exception& e);

}  // namespace cppworker::logging
