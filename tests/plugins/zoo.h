/* What the zoo plugins share, so that each file shows only the rule it breaks. */
#ifndef CPPWORKER_TESTS_ZOO_H
#define CPPWORKER_TESTS_ZOO_H

#include <cppworker/plugin.h>

#include <string.h>

static inline cppw_str zoo_str(const char* s) {
    cppw_str v = {s, strlen(s)};
    return v;
}

/* Begins a text stream and writes its first chunk; what the stream plugins do before misbehaving. */
static inline cppw_status zoo_begin_stream(const cppw_host_services* host, cppw_request_id id) {
    const cppw_response head = {sizeof head, 200, 0, {"text/plain", 10}, NULL, 0, {NULL, 0}};
    const cppw_status begun = host->stream_begin(host->host, id, &head);
    return begun != CPPW_OK ? begun : host->stream_write(host->host, id, zoo_str("first chunk\n"));
}

/* Accepts a request and never answers it: enough for plugins the loader must refuse first. */
static inline cppw_status zoo_accept(void* state, const cppw_request_info* request, cppw_error_buf error) {
    (void)state, (void)request, (void)error;
    return CPPW_OK;
}

/* Unused by the plugins that break a route rule with routes of their own. */
static const cppw_route zoo_routes[] __attribute__((unused)) = {
    {sizeof(cppw_route), CPPW_METHOD_POST, "/run", CPPW_CONCURRENCY_PARALLEL, 0, 0, -1.0},
};

#endif
