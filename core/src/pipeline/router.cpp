#include "pipeline/router.hpp"

namespace cppworker::pipeline {

RouteMatch Router::match(std::string_view method, std::string_view path) const {
    std::string allow;
    for (uint32_t i = 0; i < routes_.size(); ++i) {
        if (routes_[i].path != path) continue;
        if (plugin::method_name(routes_[i].method) == method) return RouteFound{i};
        if (!allow.empty()) allow += ", ";
        allow += plugin::method_name(routes_[i].method);
    }
    if (allow.empty()) return PathNotFound{};
    return MethodNotAllowed{std::move(allow)};
}

}  // namespace cppworker::pipeline
