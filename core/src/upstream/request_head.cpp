#include "upstream/request_head.hpp"

#include "http1/head.hpp"

#include <boost/beast/core/string.hpp>

namespace cppworker::upstream {
namespace {

std::string_view method_text(cppw_method m) {
    switch (m) {
    case CPPW_METHOD_GET: return "GET";
    case CPPW_METHOD_PUT: return "PUT";
    case CPPW_METHOD_DELETE: return "DELETE";
    case CPPW_METHOD_PATCH: return "PATCH";
    default: return "POST";
    }
}

std::string join_target(const std::string& base_path, const std::string& target) {
    if (base_path.empty() || base_path == "/") return target;
    if (base_path.back() == '/') return base_path.substr(0, base_path.size() - 1) + target;
    return base_path + target;
}

}  // namespace

void request_head(std::pmr::string& out, const UpstreamCall& call, const http1::Url& base) {
    const std::string host = base.host + ":" + base.port;
    http1::Fields fields;
    fields.set("Host", host);
    fields.set("User-Agent", "cppworker");
    for (const auto& [name, value] : call.headers) {
        if (http1::is_framing_field(name) || boost::beast::iequals(name, "Host")) continue;
        fields.set(name, value);
    }
    std::string length;
    if (!call.body.empty() || call.method == CPPW_METHOD_POST || call.method == CPPW_METHOD_PUT ||
        call.method == CPPW_METHOD_PATCH) {
        fields.set("Content-Type", call.content_type.empty() ? std::string_view("application/json") : call.content_type);
        length = std::to_string(call.body.size());
        fields.set("Content-Length", length);
    }
    http1::request_head(out, method_text(call.method), join_target(base.target, call.target), fields);
}

}  // namespace cppworker::upstream
