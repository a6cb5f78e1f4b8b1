#include "logging/error_text.hpp"

#include <boost/system/system_error.hpp>

#include <string_view>
#include <system_error>

namespace cppworker::logging {

std::string error_text(const boost::system::error_code& ec) { return ec.message(); }

std::string error_text(const std::exception& e) {
    const std::string_view what = e.what();
    if (const auto* boost_error = dynamic_cast<const boost::system::system_error*>(&e)) {
        const auto& ec = boost_error->code();
        // what() is "<prefix>: <ec.what()>" or just ec.what(); keep the prefix, replace the rest.
        const std::string detailed = ec.what();
        if (what.ends_with(detailed)) {
            return std::string(what.substr(0, what.size() - detailed.size())) + ec.message();
        }
        return ec.message();
    }
    return std::string(what);
}

}  // namespace cppworker::logging
