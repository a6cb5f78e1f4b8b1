// Zoo: C++ without the SDK, so an exception from handle unwinds into the host, which the ABI
// forbids; the host has to contain it and answer 500 all the same.
#include "zoo.h"

#include <stdexcept>

extern "C" {

static cppw_status handle(void*, const cppw_request_info*, cppw_error_buf) {
    throw std::runtime_error("boom in handle");
}

}  // extern "C"

CPPW_DEFINE_PLUGIN = {
    CPPW_PLUGIN_MAGIC, CPPW_ABI_MAJOR, CPPW_ABI_MINOR, sizeof(cppw_plugin_descriptor),
    1, zoo_routes, sizeof(cppw_route), 0,
    "zoo_handle_throws_raw", "1.0.0",
    nullptr, nullptr, nullptr, handle, nullptr, nullptr,
    nullptr, nullptr,
    nullptr,
    nullptr, nullptr,
};
