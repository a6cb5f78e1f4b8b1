/* Zoo: answers every request twice. The second respond must do nothing and say so; the log line
 * lets a test see which status it returned. */
#include "zoo.h"

#include <stdio.h>
#include <string.h>

/* The plugin is loaded once per process, so one table is all there is to keep. */
static const cppw_host_services* host;

static cppw_status init(const cppw_host_services* services, void** state, cppw_error_buf error) {
    (void)state, (void)error;
    host = services;
    return CPPW_OK;
}

static cppw_status answer(cppw_request_id id, const char* body) {
    cppw_response r = {sizeof r, 200, 0, {NULL, 0}, NULL, 0, {body, strlen(body)}};
    return host->respond(host->host, id, &r);
}

static cppw_status handle(void* state, const cppw_request_info* request, cppw_error_buf error) {
    (void)state, (void)error;
    answer(request->id, "{\"answer\": 1}");
    const cppw_status second = answer(request->id, "{\"answer\": 2}");
    char line[64];
    const int n = snprintf(line, sizeof line, "second respond returned %d", (int)second);
    cppw_str message = {line, (size_t)n};
    host->log(host->host, CPPW_LOG_WARN, message);
    return CPPW_OK;
}

CPPW_DEFINE_PLUGIN = {
    CPPW_PLUGIN_MAGIC, CPPW_ABI_MAJOR, CPPW_ABI_MINOR, sizeof(cppw_plugin_descriptor),
    1, zoo_routes, sizeof(cppw_route), 0,
    "zoo_completes_twice", "1.0.0",
    init, NULL, NULL, handle, NULL, NULL,
    NULL, NULL,
    NULL,
    NULL, NULL,
};
