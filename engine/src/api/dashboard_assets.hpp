#pragma once

#include <string_view>

namespace cppworker::engine {

// A file of the dashboard page, embedded into the engine at build time (engine/dashboard/embed.cmake).
struct DashboardAsset {
    std::string_view path;  // as requested: "/" is the page itself
    std::string_view content_type;
    std::string_view body;
};

// The asset served at `path`; null for none.
const DashboardAsset* dashboard_asset(std::string_view path);

}  // namespace cppworker::engine
