/* Zoo: built against an ABI major this worker does not speak. */
#include <cppworker/plugin.h>

static cppw_status handle(void* state, const cppw_request_info* request, cppw_error_buf error) {
    (void)state, (void)request, (void)error;
    return CPPW_OK;
}

static const cppw_route routes[] = {
    {sizeof(cppw_route), CPPW_METHOD_POST, "/run", CPPW_CONCURRENCY_PARALLEL, 0, 0, -1.0},
};

CPPW_DEFINE_PLUGIN = {
    CPPW_PLUGIN_MAGIC, CPPW_ABI_MAJOR + 1, 0, sizeof(cppw_plugin_descriptor),
    1, routes, sizeof(cppw_route), 0,
    "zoo_newer_major", "1.0.0",
    NULL, NULL, NULL, handle, NULL, NULL,
};
