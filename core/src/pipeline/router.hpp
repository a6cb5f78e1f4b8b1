#pragma once

#include "plugin/descriptor_check.hpp"

#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace cppworker::pipeline {

struct RouteFound {
    uint32_t index;
};
struct PathNotFound {};
struct MethodNotAllowed {
    std::string allow;  // value for the Allow header, e.g. "GET, POST"
};
using RouteMatch = std::variant<RouteFound, PathNotFound, MethodNotAllowed>;

// Exact-path routing over the plugin's declared routes.
class Router {
public:
    explicit Router(std::vector<plugin::RouteSpec> routes) : routes_(std::move(routes)) {}

    RouteMatch match(std::string_view method, std::string_view path) const;
    const plugin::RouteSpec& route(uint32_t index) const { return routes_[index]; }

private:
    std::vector<plugin::RouteSpec> routes_;
};

}  // namespace cppworker::pipeline
