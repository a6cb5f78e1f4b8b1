/* Zoo: a plugin that serves nothing. */
#include <cppworker/plugin.h>

static cppw_status handle(void* state, const cppw_request_info* request, cppw_error_buf error) {
    (void)state, (void)request, (void)error;
    return CPPW_OK;
}

CPPW_DEFINE_PLUGIN = {
    CPPW_PLUGIN_MAGIC, CPPW_ABI_MAJOR, CPPW_ABI_MINOR, sizeof(cppw_plugin_descriptor),
    0, NULL, sizeof(cppw_route), 0,
    "zoo_no_routes", "1.0.0",
    NULL, NULL, NULL, handle, NULL, NULL,
};
