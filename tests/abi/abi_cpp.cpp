// plugin.h and then the C++ SDK compiled as C++, with the same layout checks as the C side, and
// the list of sizes and offsets exported for the C side to compare against its own.
#include <cppworker/plugin.h>
#include <cppworker/plugin.hpp>

#include "abi_layout.h"

#include <cstddef>

static_assert(offsetof(cppw_plugin_descriptor, magic) == 0);
static_assert(offsetof(cppw_plugin_descriptor, abi_major) == 8);
static_assert(offsetof(cppw_plugin_descriptor, abi_minor) == 12);
static_assert(offsetof(cppw_plugin_descriptor, struct_size) == 16);

// Plugins declare their routes as `static constexpr` arrays, so route() must stay constexpr.
constexpr cppw_route limited = cppworker::route(
    CPPW_METHOD_POST, "/generate", {.concurrency = CPPW_CONCURRENCY_LIMIT, .limit = 2, .blocking = true});
static_assert(limited.struct_size == sizeof(cppw_route));
static_assert(limited.method == CPPW_METHOD_POST);
static_assert(limited.concurrency == CPPW_CONCURRENCY_LIMIT && limited.limit == 2);
static_assert(limited.flags == CPPW_ROUTE_BLOCKING);
static_assert(limited.max_queue_time < 0);

#define ABI_CPP_ENTRY(expr) expr,
extern "C" const std::size_t cppw_abi_cpp_layout[] = {CPPW_ABI_LAYOUT(ABI_CPP_ENTRY)};
extern "C" const std::size_t cppw_abi_cpp_layout_count = sizeof cppw_abi_cpp_layout / sizeof cppw_abi_cpp_layout[0];
