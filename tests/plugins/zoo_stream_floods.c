/* Zoo: streams 64 KiB chunks from a thread as fast as it can, ignoring CPPW_BACKPRESSURE, until a
 * write is refused. A client that does not read must cost the worker a bounded amount of memory:
 * the host cuts the stream at its hard limit. */
/* nanosleep and pthreads under -std=c99 */
#define _POSIX_C_SOURCE 200809L

#include "zoo.h"

#include <pthread.h>
#include <stdio.h>

static const cppw_host_services* host;
static pthread_t writer;
static int writing;
static char chunk[64 * 1024];

static void* flood(void* arg) {
    const cppw_request_id id = (cppw_request_id)(uintptr_t)arg;
    const cppw_str piece = {chunk, sizeof chunk};
    size_t written = 0;
    cppw_status status = CPPW_OK;
    while (status == CPPW_OK || status == CPPW_BACKPRESSURE) {
        status = host->stream_write(host->host, id, piece);
        if (status == CPPW_OK || status == CPPW_BACKPRESSURE) written += sizeof chunk;
    }
    char line[128];
    snprintf(line, sizeof line, "flood: refused with status %d after %zu bytes", (int)status, written);
    host->log(host->host, CPPW_LOG_INFO, zoo_str(line));
    host->stream_end(host->host, id, CPPW_ERROR);
    return NULL;
}

static cppw_status init(const cppw_host_services* services, void** state, cppw_error_buf error) {
    (void)state, (void)error;
    host = services;
    memset(chunk, 'x', sizeof chunk);
    return CPPW_OK;
}

/* One flood at a time is all the tests send. */
static cppw_status handle(void* state, const cppw_request_info* request, cppw_error_buf error) {
    (void)state, (void)error;
    if (writing) return CPPW_WRONG_STATE;
    const cppw_response head = {sizeof head, 200, 0, {"text/plain", 10}, NULL, 0, {NULL, 0}};
    host->stream_begin(host->host, request->id, &head);
    writing = pthread_create(&writer, NULL, flood, (void*)(uintptr_t)request->id) == 0;
    return CPPW_OK;
}

static void finalize(void* state) {
    (void)state;
    if (writing) pthread_join(writer, NULL);
}

static const cppw_route routes[] = {
    {sizeof(cppw_route), CPPW_METHOD_POST, "/flood", CPPW_CONCURRENCY_PARALLEL, 0, 0, -1.0},
};

CPPW_DEFINE_PLUGIN = {
    CPPW_PLUGIN_MAGIC, CPPW_ABI_MAJOR, CPPW_ABI_MINOR, sizeof(cppw_plugin_descriptor),
    1, routes, sizeof(cppw_route), 0,
    "zoo_stream_floods", "1.0.0",
    init, NULL, NULL, handle, NULL, finalize,
    NULL, NULL,
    NULL,
    NULL, NULL,
};
