/* What the zoo plugins share, so that each file shows only the rule it breaks. */
#ifndef CPPWORKER_TESTS_ZOO_H
#define CPPWORKER_TESTS_ZOO_H

#include <cppworker/plugin.h>

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
