/* Zoo: the magic with its last byte 2 instead of 1, as a descriptor of some other format would have. */
#include <cppworker/plugin.h>

static cppw_status handle(void* state, const cppw_request_info* request, cppw_error_buf error) {
    (void)state, (void)request, (void)error;
    return CPPW_OK;
}

static const cppw_route routes[] = {
    {sizeof(cppw_route), CPPW_METHOD_POST, "/run", CPPW_CONCURRENCY_PARALLEL, 0, 0, -1.0},
};

CPPW_DEFINE_PLUGIN = {
    UINT64_C(0x0252524B57505043), CPPW_ABI_MAJOR, CPPW_ABI_MINOR, sizeof(cppw_plugin_descriptor),
    1, routes, sizeof(cppw_route), 0,
    "zoo_bad_magic", "1.0.0",
    NULL, NULL, NULL, handle, NULL, NULL,
};
