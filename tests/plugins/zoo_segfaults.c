/* Zoo: a plugin with a bug that kills its process: POST /crash raises SIGSEGV, as a stray pointer
 * would. POST /ok answers, so that a test can tell when a worker serves again. */
#define _POSIX_C_SOURCE 200809L /* sigaction, in a strict C99 build */

#include "zoo.h"

#include <signal.h>
#include <string.h>

static const cppw_host_services* host;

static cppw_status init(const cppw_host_services* services, void** state, cppw_error_buf error) {
    (void)state, (void)error;
    host = services;
    return CPPW_OK;
}

/* Dies of SIGSEGV in every build: AddressSanitizer's handler would otherwise catch the signal,
 * print its report and exit with code 1, which is a different death from the one under test. */
static void crash(void) {
    struct sigaction default_action;
    memset(&default_action, 0, sizeof default_action);
    default_action.sa_handler = SIG_DFL;
    sigaction(SIGSEGV, &default_action, NULL);
    raise(SIGSEGV);
}

static cppw_status handle(void* state, const cppw_request_info* request, cppw_error_buf error) {
    (void)state, (void)error;
    if (request->route_index == 1) crash();
    const cppw_response ok = {sizeof ok, 200, 0, {"application/json", 16}, NULL, 0, {"{\"ok\": true}", 12}};
    return host->respond(host->host, request->id, &ok);
}

static const cppw_route routes[] = {
    {sizeof(cppw_route), CPPW_METHOD_POST, "/ok", CPPW_CONCURRENCY_PARALLEL, 0, 0, -1.0},
    {sizeof(cppw_route), CPPW_METHOD_POST, "/crash", CPPW_CONCURRENCY_PARALLEL, 0, 0, -1.0},
};

CPPW_DEFINE_PLUGIN = {
    CPPW_PLUGIN_MAGIC, CPPW_ABI_MAJOR, CPPW_ABI_MINOR, sizeof(cppw_plugin_descriptor),
    2, routes, sizeof(cppw_route), 0,
    "zoo_segfaults", "1.0.0",
    init, NULL, NULL, handle, NULL, NULL,
    NULL, NULL,
    NULL,
    NULL, NULL,
};
