/* Not broken: a plugin as built against ABI 1.2, the minor before json_get. A 1.3 host loads and
 * serves it as before: the host-services table it gets is longer than the one it knows, and the
 * plugin reads only what it knows. Answers POST /run with the ABI minor it was given. */
#include "zoo.h"

#include <stdio.h>

static const cppw_host_services* services;

static cppw_status init(const cppw_host_services* host, void** state, cppw_error_buf error) {
    (void)state, (void)error;
    services = host;
    return CPPW_OK;
}

static cppw_status answer(void* state, const cppw_request_info* request, cppw_error_buf error) {
    (void)state, (void)error;
    char body[64];
    const int n = snprintf(body, sizeof body, "{\"host_abi\": \"%u.%u\"}", (unsigned)services->abi_major,
                           (unsigned)services->abi_minor);
    const cppw_response r = {sizeof r, 200, 0, {"application/json", 16}, NULL, 0, {body, (size_t)n}};
    return services->respond(services->host, request->id, &r);
}

CPPW_DEFINE_PLUGIN = {
    CPPW_PLUGIN_MAGIC, CPPW_ABI_MAJOR, 2, sizeof(cppw_plugin_descriptor),
    1, zoo_routes, sizeof(cppw_route), 0,
    "zoo_abi_1_2", "1.2.0",
    init, NULL, NULL, answer, NULL, NULL,
    NULL, NULL,
    NULL,
    /* ABI 1.3's hooks, which a 1.2 plugin does not have: garbage the host must not read. */
    (cppw_cancel_fn)1, (cppw_release_state_fn)1,
};
