/* Zoo: begins a stream, writes once, then writes nothing more until the host gives up on the
 * request (--stream-idle-timeout); only then does it end the stream. Its thread logs what it saw. */
/* nanosleep and pthreads under -std=c99 */
#define _POSIX_C_SOURCE 200809L

#include "zoo.h"

#include <pthread.h>
#include <time.h>

static const cppw_host_services* host;
static pthread_t waiter;
static int waiting;

static void* wait_for_cancel(void* arg) {
    const cppw_request_id id = (cppw_request_id)(uintptr_t)arg;
    const struct timespec tick = {0, 10 * 1000 * 1000};
    for (int i = 0; i < 6000 && !host->is_cancelled(host->host, id); ++i) nanosleep(&tick, NULL);
    host->log(host->host, CPPW_LOG_INFO,
              zoo_str(host->is_cancelled(host->host, id) ? "stall: the host cancelled the request"
                                                         : "stall: never cancelled"));
    host->stream_end(host->host, id, CPPW_CANCELLED);
    return NULL;
}

static cppw_status init(const cppw_host_services* services, void** state, cppw_error_buf error) {
    (void)state, (void)error;
    host = services;
    return CPPW_OK;
}

/* One stalled request at a time is all the tests send. */
static cppw_status handle(void* state, const cppw_request_info* request, cppw_error_buf error) {
    (void)state, (void)error;
    if (waiting) return CPPW_WRONG_STATE;
    zoo_begin_stream(host, request->id);
    waiting = pthread_create(&waiter, NULL, wait_for_cancel, (void*)(uintptr_t)request->id) == 0;
    return CPPW_OK;
}

static void finalize(void* state) {
    (void)state;
    if (waiting) pthread_join(waiter, NULL);
}

static const cppw_route routes[] = {
    {sizeof(cppw_route), CPPW_METHOD_POST, "/stall", CPPW_CONCURRENCY_PARALLEL, 0, 0, -1.0},
};

CPPW_DEFINE_PLUGIN = {
    CPPW_PLUGIN_MAGIC, CPPW_ABI_MAJOR, CPPW_ABI_MINOR, sizeof(cppw_plugin_descriptor),
    1, routes, sizeof(cppw_route), 0,
    "zoo_stream_stalls", "1.0.0",
    init, NULL, NULL, handle, NULL, finalize,
    NULL, NULL,
    NULL,
    NULL, NULL,
};
