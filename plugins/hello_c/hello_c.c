/* The hello_world counter in C99, with a POSIX mutex: proof that the plugin ABI needs no C++, and
 * that a C plugin validates and reads its payload through the host's json_get, with no JSON
 * library of its own and no limit on the payload's size. */
#include <cppworker/plugin.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum route { increment, value };

typedef struct counter {
    const cppw_host_services* host;
    pthread_mutex_t lock;
    long long value;
} counter;

static cppw_str str(const char* s) {
    cppw_str v = {s, strlen(s)};
    return v;
}

static cppw_status init(const cppw_host_services* host, void** state, cppw_error_buf error) {
    if (!CPPW_HAS_SERVICE(host, json_get)) {
        snprintf(error.data, error.capacity, "hello_c needs a host with ABI 1.3 (json_get); this one has 1.%u",
                 (unsigned)host->abi_minor);
        return CPPW_UNSUPPORTED;
    }
    counter* c = malloc(sizeof *c);
    if (c == NULL || pthread_mutex_init(&c->lock, NULL) != 0) {
        free(c);
        snprintf(error.data, error.capacity, "out of memory");
        return CPPW_ERROR;
    }
    c->host = host;
    c->value = 0;
    *state = c;
    host->log(host->host, CPPW_LOG_INFO, str("hello_c ready"));
    return CPPW_OK;
}

/* The payload's "amount", if it is an integer. */
static int read_amount(const counter* c, cppw_str payload, long long* amount) {
    cppw_json_value v;
    v.struct_size = sizeof v;
    if (c->host->json_get(payload, str("/amount"), &v, NULL, 0) != CPPW_OK) return 0;
    if (v.type != CPPW_JSON_NUMBER || !v.is_integer) return 0;
    *amount = v.integer;
    return 1;
}

/* Runs before the request is admitted, and a refusal here is a 422: so it also validates. */
static cppw_status workload(void* state, const cppw_request_info* request, double* work, cppw_error_buf error) {
    long long amount;
    *work = 1.0;
    if (request->route_index == increment && !read_amount(state, request->payload, &amount)) {
        snprintf(error.data, error.capacity, "payload needs \"amount\" as an integer");
        return CPPW_INVALID_ARGUMENT;
    }
    return CPPW_OK;
}

static long long add(counter* c, long long amount) {
    pthread_mutex_lock(&c->lock);
    c->value += amount;
    const long long now = c->value;
    pthread_mutex_unlock(&c->lock);
    return now;
}

static cppw_status answer_value(const counter* c, cppw_request_id id, long long value_now) {
    char body[64];
    const int n = snprintf(body, sizeof body, "{\"value\": %lld}", value_now);
    cppw_response r = {sizeof r, 200, 0, str("application/json"), NULL, 0, {body, (size_t)n}};
    return c->host->respond(c->host->host, id, &r);
}

static cppw_status handle(void* state, const cppw_request_info* request, cppw_error_buf error) {
    counter* c = state;
    long long amount = 0;
    if (request->route_index == increment && !read_amount(c, request->payload, &amount)) {
        snprintf(error.data, error.capacity, "payload needs \"amount\" as an integer");  /* workload checked it */
        return CPPW_INVALID_ARGUMENT;
    }
    answer_value(c, request->id, add(c, amount));
    return CPPW_OK;
}

static void finalize(void* state) {
    counter* c = state;
    pthread_mutex_destroy(&c->lock);
    free(c);
}

static const cppw_route routes[] = {
    CPPW_ROUTE(CPPW_METHOD_POST, "/increment"),
    CPPW_ROUTE(CPPW_METHOD_GET, "/value"),
};

CPPW_DEFINE_PLUGIN = CPPW_PLUGIN("hello_c", "1.1.0", routes, .init = init, .workload = workload, .handle = handle,
                                 .finalize = finalize);
