/* The hello_world counter in plain C99: proof that the plugin ABI needs no C++. */
#include <cppworker/plugin.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct counter {
    const cppw_host_services* host;
    atomic_llong value;
} counter;

static cppw_str str(const char* s) {
    cppw_str v = {s, strlen(s)};
    return v;
}

static cppw_status init(const cppw_host_services* host, void** state, cppw_error_buf error) {
    counter* c = malloc(sizeof *c);
    if (c == NULL) {
        snprintf(error.data, error.capacity, "out of memory");
        return CPPW_ERROR;
    }
    c->host = host;
    atomic_init(&c->value, 0);
    *state = c;
    host->log(host->host, CPPW_LOG_INFO, str("hello_c ready"));
    return CPPW_OK;
}

static cppw_status answer_value(counter* c, cppw_request_id id, long long value) {
    char body[64];
    const int n = snprintf(body, sizeof body, "{\"value\": %lld}", value);
    cppw_response r = {sizeof r, 200, 0, str("application/json"), NULL, 0, {body, (size_t)n}};
    return c->host->respond(c->host->host, id, &r);
}

/* Finds "amount": <integer> in the payload; enough JSON for a counter. */
static int parse_amount(cppw_str payload, long long* amount) {
    char text[256];
    if (payload.size >= sizeof text) return 0;
    memcpy(text, payload.data, payload.size);
    text[payload.size] = '\0';
    const char* key = strstr(text, "\"amount\"");
    if (key == NULL) return 0;
    const char* colon = strchr(key, ':');
    if (colon == NULL) return 0;
    char* end;
    *amount = strtoll(colon + 1, &end, 10);
    return end != colon + 1;
}

static cppw_status handle(void* state, const cppw_request_info* request, cppw_error_buf error) {
    counter* c = state;
    if (request->route_index == 1) return answer_value(c, request->id, atomic_load(&c->value)), CPPW_OK;
    long long amount;
    if (!parse_amount(request->payload, &amount)) {
        snprintf(error.data, error.capacity, "payload needs an integer \"amount\"");
        return CPPW_INVALID_ARGUMENT;
    }
    answer_value(c, request->id, atomic_fetch_add(&c->value, amount) + amount);
    return CPPW_OK;
}

static void finalize(void* state) { free(state); }

static const cppw_route routes[] = {
    {sizeof(cppw_route), CPPW_METHOD_POST, "/increment", CPPW_CONCURRENCY_PARALLEL, 0, 0, -1.0},
    {sizeof(cppw_route), CPPW_METHOD_GET, "/value", CPPW_CONCURRENCY_PARALLEL, 0, 0, -1.0},
};

CPPW_DEFINE_PLUGIN = {
    CPPW_PLUGIN_MAGIC, CPPW_ABI_MAJOR, CPPW_ABI_MINOR, sizeof(cppw_plugin_descriptor),
    sizeof routes / sizeof routes[0], routes, sizeof(cppw_route), 0,
    "hello_c", "1.0.0",
    init, NULL, NULL, handle, NULL, finalize,
    NULL, NULL,
    NULL,
};
