// Zoo: C++ without the SDK, so nothing catches what init throws and it unwinds into the host,
// which the ABI forbids; the host has to contain it all the same.
#include "zoo.h"

#include <stdexcept>

extern "C" {

static cppw_status init(const cppw_host_services*, void**, cppw_error_buf) {
    throw std::runtime_error("boom in init");
}

}  // extern "C"

CPPW_DEFINE_PLUGIN = {
    CPPW_PLUGIN_MAGIC, CPPW_ABI_MAJOR, CPPW_ABI_MINOR, sizeof(cppw_plugin_descriptor),
    1, zoo_routes, sizeof(cppw_route), 0,
    "zoo_init_throws", "1.0.0",
    init, nullptr, nullptr, zoo_accept, nullptr, nullptr,
    nullptr, nullptr,
    nullptr,
    nullptr, nullptr,
};
