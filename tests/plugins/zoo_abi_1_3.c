/* Not broken: a plugin as built against ABI 1.3, the minor before timer_start. A 1.4 host loads and
 * serves it as before, its 1.3 services (json_get, attach_state with release_state) included.
 * Answers POST /run with the ABI the host says it has and the payload's "say", read in workload
 * and handed to handle through attach_state. */
#include "zoo.h"

#include <stdio.h>
#include <stdlib.h>

static const cppw_host_services* services;

static cppw_status init(const cppw_host_services* host, void** state, cppw_error_buf error) {
    (void)state;
    if (!CPPW_HAS_SERVICE(host, json_get) || !CPPW_HAS_SERVICE(host, attach_state)) {
        snprintf(error.data, error.capacity, "zoo_abi_1_3 needs the ABI 1.3 services");
        return CPPW_UNSUPPORTED;
    }
    services = host;
    return CPPW_OK;
}

static cppw_status workload(void* state, const cppw_request_info* request, double* work, cppw_error_buf error) {
    cppw_json_value v;
    char* said;
    (void)state;
    v.struct_size = sizeof v;
    if (services->json_get(request->payload, zoo_str("/say"), &v, NULL, 0) != CPPW_OK || v.type != CPPW_JSON_STRING ||
        (said = malloc(v.text_size + 1)) == NULL) {
        snprintf(error.data, error.capacity, "payload needs \"say\" as a string");
        return CPPW_INVALID_ARGUMENT;
    }
    services->json_get(request->payload, zoo_str("/say"), &v, said, v.text_size + 1);
    if (services->attach_state(services->host, request->id, said) != CPPW_OK) free(said);
    *work = 1.0;
    return CPPW_OK;
}

static cppw_status answer(void* state, const cppw_request_info* request, cppw_error_buf error) {
    char body[128];
    char* said = request->request_state;
    (void)state, (void)error;
    const int n = snprintf(body, sizeof body, "{\"host_abi\": \"%u.%u\", \"said\": \"%s\"}",
                           (unsigned)services->abi_major, (unsigned)services->abi_minor, said ? said : "");
    free(said);
    const cppw_response r = {sizeof r, 200, 0, {"application/json", 16}, NULL, 0,
                             {body, n < (int)sizeof body ? (size_t)n : sizeof body - 1}};
    services->respond(services->host, request->id, &r);
    return CPPW_OK;
}

static void release_state(void* state, void* request_state) {
    (void)state;
    free(request_state);
}

CPPW_DEFINE_PLUGIN = {
    CPPW_PLUGIN_MAGIC, CPPW_ABI_MAJOR, 3, sizeof(cppw_plugin_descriptor),
    1, zoo_routes, sizeof(cppw_route), 0,
    "zoo_abi_1_3", "1.3.0",
    init, NULL, workload, answer, NULL, NULL,
    NULL, NULL,
    NULL,
    NULL, release_state,
};
