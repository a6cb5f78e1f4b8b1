// Zoo: C++ without the SDK, so an exception from handle unwinds into the host, which the ABI
// forbids; the host has to contain it and answer 500 all the same.
#include <cppworker/plugin.h>

#include <stdexcept>

extern "C" {

static cppw_status handle(void*, const cppw_request_info*, cppw_error_buf) {
    throw std::runtime_error("boom in handle");
}

}  // extern "C"

static const cppw_route routes[] = {
    {sizeof(cppw_route), CPPW_METHOD_POST, "/run", CPPW_CONCURRENCY_PARALLEL, 0, 0, -1.0},
};

CPPW_DEFINE_PLUGIN = {
    CPPW_PLUGIN_MAGIC, CPPW_ABI_MAJOR, CPPW_ABI_MINOR, sizeof(cppw_plugin_descriptor),
    1, routes, sizeof(cppw_route), 0,
    "zoo_handle_throws_raw", "1.0.0",
    nullptr, nullptr, nullptr, handle, nullptr, nullptr,
};
