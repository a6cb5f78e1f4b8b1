#include "server/router.hpp"

namespace cppworker::server {

std::string_view method_name(cppw_method m) {
    switch (m) {
    case CPPW_METHOD_GET: return "GET";
    case CPPW_METHOD_POST: return "POST";
    case CPPW_METHOD_PUT: return "PUT";
    case CPPW_METHOD_DELETE: return "DELETE";
    case CPPW_METHOD_PATCH: return "PATCH";
    }
    return "";
}

RouteMatch Router::match(std::string_view method, std::string_view path) const {
    std::string allow;
    for (uint32_t i = 0; i < routes_.size(); ++i) {
        if (routes_[i].path != path) continue;
        if (method_name(routes_[i].method) == method) return RouteFound{i};
        if (!allow.empty()) allow += ", ";
        allow += method_name(routes_[i].method);
    }
    if (allow.empty()) return PathNotFound{};
    return MethodNotAllowed{std::move(allow)};
}

}  // namespace cppworker::server
