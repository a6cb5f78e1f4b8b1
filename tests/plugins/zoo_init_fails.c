/* Zoo: init refuses, as a backend whose model cannot be found would; the worker must not start. */
#include "zoo.h"

#include <stdio.h>

static cppw_status init(const cppw_host_services* services, void** state, cppw_error_buf error) {
    (void)services, (void)state;
    snprintf(error.data, error.capacity, "model weights missing");
    return CPPW_ERROR;
}

CPPW_DEFINE_PLUGIN = {
    CPPW_PLUGIN_MAGIC, CPPW_ABI_MAJOR, CPPW_ABI_MINOR, sizeof(cppw_plugin_descriptor),
    1, zoo_routes, sizeof(cppw_route), 0,
    "zoo_init_fails", "1.0.0",
    init, NULL, NULL, zoo_accept, NULL, NULL,
    NULL, NULL,
    NULL,
    NULL, NULL,
};
