#include "http1/head.hpp"

#include <boost/beast/core/string.hpp>

#include <algorithm>

#include <fmt/format.h>

namespace cppworker::http1 {
namespace beast = boost::beast;

bool is_framing_field(std::string_view name) {
    return beast::iequals(name, "Content-Length") || beast::iequals(name, "Transfer-Encoding") ||
           beast::iequals(name, "Connection");
}

void Fields::set(std::string_view name, std::string_view value) {
    fields_.erase(std::remove_if(fields_.begin(), fields_.end(),
                                 [&](const auto& field) { return beast::iequals(field.first, name); }),
                  fields_.end());
    fields_.emplace_back(name, value);
}

bool Fields::contains(std::string_view name) const {
    return std::any_of(fields_.begin(), fields_.end(),
                       [&](const auto& field) { return beast::iequals(field.first, name); });
}

void request_head(std::pmr::string& out, std::string_view method, std::string_view target, const Fields& fields) {
    out.reserve(out.size() + 256);
    out.append(method);
    out.push_back(' ');
    out.append(target);
    out.append(" HTTP/1.1\r\n");
    fields.append_to(out);
    out.append("\r\n");
}

void response_head(std::string& out, unsigned version, unsigned status, std::string_view reason, const Fields& fields) {
    out.reserve(out.size() + 256);
    fmt::format_to(std::back_inserter(out), "HTTP/{}.{} {} {}\r\n", version / 10, version % 10, status, reason);
    fields.append_to(out);
    out.append("\r\n");
}

}  // namespace cppworker::http1
