/* Zoo: handle begins a stream, writes to it, then refuses the request. The client must not be left
 * with a 200 and half a body: the host cuts the stream short and counts the request as failed. */
#include "zoo.h"

#include <stdio.h>

static const cppw_host_services* host;

static cppw_status init(const cppw_host_services* services, void** state, cppw_error_buf error) {
    (void)state, (void)error;
    host = services;
    return CPPW_OK;
}

static cppw_status handle(void* state, const cppw_request_info* request, cppw_error_buf error) {
    (void)state;
    zoo_begin_stream(host, request->id);
    snprintf(error.data, error.capacity, "the model went away mid-stream");
    return CPPW_ERROR;
}

static const cppw_route routes[] = {
    {sizeof(cppw_route), CPPW_METHOD_POST, "/stream", CPPW_CONCURRENCY_PARALLEL, 0, 0, -1.0},
};

CPPW_DEFINE_PLUGIN = {
    CPPW_PLUGIN_MAGIC, CPPW_ABI_MAJOR, CPPW_ABI_MINOR, sizeof(cppw_plugin_descriptor),
    1, routes, sizeof(cppw_route), 0,
    "zoo_stream_then_fails", "1.0.0",
    init, NULL, NULL, handle, NULL, NULL,
    NULL, NULL,
    NULL,
    NULL, NULL,
};
