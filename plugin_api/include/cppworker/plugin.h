/*
 * cppworker plugin ABI, version 1 (minor 4).
 *
 * A backend plugin is a shared object that exports exactly one symbol, the data object
 * `cppworker_plugin` of type `cppw_plugin_descriptor`. The host reads and checks that descriptor
 * (magic, ABI major/minor, struct sizes, routes) before it calls any plugin function, then calls the
 * hooks it names. Plugins link nothing from the host: every host service arrives as a table of
 * function pointers passed to `init`.
 *
 * This header is C99 and C++ clean and is the whole contract. Everything in it carries the prefix
 * `cppw_` / `CPPW_`.
 *
 * VERSIONING
 *   ABI major changes break compatibility: the host refuses a plugin whose major differs from its own.
 *   ABI minor changes only append fields at the end of structs and add enum values. Every struct
 *   that can grow starts with `struct_size`; a reader looks only at the fields that fit in the size
 *   the writer stated, so a host runs plugins built against any older minor, and a plugin can learn
 *   the host's minor from `cppw_host_services.abi_minor` in `init` before it uses newer services,
 *   or ask for one service with CPPW_HAS_SERVICE. A plugin built against a newer minor runs on an
 *   older host as long as it does not use what that host lacks.
 *     1.1  cppw_readiness, the `benchmark` hook, the `payload` service
 *     1.2  `forward`, cppw_response.flags, the descriptor's `model_server_url`
 *     1.3  `json_get`, `attach_state` with the `release_state` hook, the `cancel` hook,
 *          `forward` with CPPW_NO_REQUEST
 *     1.4  `timer_start` (waiting without a thread), appended to cppw_host_services
 *
 * OWNERSHIP
 *   Strings and bodies are `cppw_str` views (pointer + length, not NUL-terminated unless stated).
 *   What the host lends to a hook is valid until that hook returns, unless stated otherwise.
 *   What the plugin passes to a host service is copied before the service returns.
 *   Nobody frees memory the other side allocated.
 *
 * THREADS
 *   The host runs an I/O event loop on several threads. Hooks marked "I/O thread" must not block:
 *   do blocking work on your own threads, or declare the route CPPW_ROUTE_BLOCKING so the host calls
 *   `handle` on its blocking pool. Every host service may be called from any thread, concurrently,
 *   between the return of `init` and the return of `finalize` (log and config_get also inside both).
 *   The callbacks the host makes (a forward's, a timer's) run on its I/O threads (at shutdown, on
 *   the main thread before `finalize`) and must not block either.
 *
 * REQUESTS
 *   A request accepted by `handle` (it returned CPPW_OK) must be completed exactly once, by
 *   `respond` or by `stream_end`, possibly later and from any thread. A request whose client has
 *   left still has to be completed; the host then drops the answer and the service returns
 *   CPPW_CANCELLED, which says the request is completed and the answer went nowhere: not an
 *   error (`handle` that completed a request returns CPPW_OK whatever the completion returned).
 *   Any call with a request that was already completed returns CPPW_UNKNOWN_REQUEST (or
 *   CPPW_WRONG_STATE when it races the completing call) and does nothing, so a second completion
 *   is harmless; the host logs it as a plugin bug.
 *   When the host gives up a request the plugin accepted and has not completed (the client left,
 *   a deadline passed, its session closed, shutdown), it calls the `cancel` hook once (ABI 1.3):
 *   the moment to stop work at the model server that would otherwise go on for nobody.
 *
 * PER-REQUEST STATE (ABI 1.3)
 *   `workload` may hand `handle` a pointer (say, the payload it parsed) with the `attach_state`
 *   service. The host holds it in between: `handle` receives it in `request->request_state` and
 *   owns it from then on, whatever `handle` returns; a request turned away before `handle` (401,
 *   429, its client gone while it was queued or while its call waited for a blocking-pool thread,
 *   shutdown) has it passed to `release_state` instead, and `handle` is never called for it.
 *   Exactly one of the two happens to every attached pointer.
 *
 * EXCEPTIONS
 *   No C++ exception may leave a hook. The C++ SDK (`plugin.hpp`) catches them for you; the host
 *   also contains one that escapes, answering the request with 500, but a plugin cannot count on it.
 *
 * LIFETIME
 *   The host never unloads a plugin while the process runs; reloading means a new process.
 *   `finalize` must stop and join every thread the plugin started.
 */
#ifndef CPPWORKER_PLUGIN_H
#define CPPWORKER_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CPPW_ABI_MAJOR 1
#define CPPW_ABI_MINOR 4

/* "CPPWRKR\1": the first eight bytes of every descriptor. */
#define CPPW_PLUGIN_MAGIC UINT64_C(0x01524B5257505043)

/* The one exported symbol of a plugin, a `const cppw_plugin_descriptor`. */
#define CPPW_DESCRIPTOR_SYMBOL "cppworker_plugin"

#if defined(_WIN32)
#define CPPW_EXPORT __declspec(dllexport)
#else
#define CPPW_EXPORT __attribute__((visibility("default")))
#endif

/* ---------------------------------------------------------------------------------------------- */
/* Basic types                                                                                    */

typedef struct cppw_str {
    const char* data;
    size_t size;
} cppw_str;

typedef enum cppw_status {
    CPPW_OK = 0,
    CPPW_ERROR = 1,               /* generic failure; see the accompanying message */
    CPPW_INVALID_ARGUMENT = 2,    /* a pointer, size or value passed to the host was not acceptable */
    CPPW_CANCELLED = 3,           /* the client left; the answer was dropped */
    CPPW_UNKNOWN_REQUEST = 4,     /* the request was already completed (or never existed) */
    CPPW_WRONG_STATE = 5,         /* e.g. stream_write before stream_begin, or respond after it */
    CPPW_BACKPRESSURE = 6,        /* data accepted, but the client reads slower than you write */
    CPPW_NOT_FOUND = 7,           /* config_get: no such key */
    CPPW_UNSUPPORTED = 8,         /* the host does not offer this service */
    /* ABI 1.2: how a forward to the model server failed (see cppw_forward) */
    CPPW_UPSTREAM_UNREACHABLE = 9, /* no connection, or it broke: the host answers 502 */
    CPPW_UPSTREAM_TIMEOUT = 10     /* no answer (or no more of it) in time: the host answers 504 */
} cppw_status;

/* A buffer the host lends for an error message. Write at most `capacity` bytes including the
 * terminating NUL. The host reads it only when the hook returns something other than CPPW_OK. */
typedef struct cppw_error_buf {
    char* data;
    size_t capacity;
} cppw_error_buf;

typedef enum cppw_log_level {
    CPPW_LOG_DEBUG = 0,
    CPPW_LOG_INFO = 1,
    CPPW_LOG_WARN = 2,
    CPPW_LOG_ERROR = 3
} cppw_log_level;

typedef enum cppw_method {
    CPPW_METHOD_GET = 1,
    CPPW_METHOD_POST = 2,
    CPPW_METHOD_PUT = 3,
    CPPW_METHOD_DELETE = 4,
    CPPW_METHOD_PATCH = 5
} cppw_method;

typedef struct cppw_header {
    cppw_str name;
    cppw_str value;
} cppw_header;

/* Opaque identifier of one request. Identifiers are never reused within a process. */
typedef uint64_t cppw_request_id;

/* No client request (ABI 1.3): `forward` with it sends a request of the plugin's own to the model
 * server (an interrupt, a queue delete, a health poke). No request ever has this id. */
#define CPPW_NO_REQUEST UINT64_C(0)

/* Opaque host handle, passed back to the host in services that need it. */
typedef struct cppw_host cppw_host;

/* ---------------------------------------------------------------------------------------------- */
/* Routes                                                                                         */

typedef enum cppw_concurrency {
    CPPW_CONCURRENCY_PARALLEL = 0, /* every request runs at once */
    CPPW_CONCURRENCY_FIFO = 1,     /* one at a time, in arrival order, across all FIFO routes */
    CPPW_CONCURRENCY_LIMIT = 2     /* at most `limit` of this route's requests at once */
} cppw_concurrency;

/* `handle` may block (in-process inference): the host calls it on its blocking pool. */
#define CPPW_ROUTE_BLOCKING UINT32_C(0x1)

typedef struct cppw_route {
    uint32_t struct_size;      /* sizeof(cppw_route) as the plugin was built */
    uint32_t method;           /* a cppw_method */
    const char* path;          /* NUL-terminated, starts with '/', e.g. "/generate"; static storage */
    uint32_t concurrency;      /* a cppw_concurrency */
    uint32_t limit;            /* with CPPW_CONCURRENCY_LIMIT: the maximum, at least 1 */
    uint32_t flags;            /* CPPW_ROUTE_* bits */
    double max_queue_time;     /* seconds of queued workload over which a request is refused; < 0: none */
} cppw_route;

/* ---------------------------------------------------------------------------------------------- */
/* What the host tells the plugin about a request                                                 */

typedef struct cppw_request_info {
    uint32_t struct_size;
    uint32_t route_index;      /* index into the descriptor's routes */
    cppw_request_id id;
    cppw_str path;             /* the request target's path, without the query */
    cppw_str query;            /* after '?', may be empty */
    cppw_str payload;          /* JSON text of the envelope's "payload"; empty for a body-less GET */
    cppw_str session_id;       /* empty when the envelope names no session */
    /* ABI 1.3: in `handle`, what `workload` attached (see attach_state), now the plugin's; NULL
     * when nothing was attached, and always NULL in `workload`. */
    void* request_state;
} cppw_request_info;

/* ---------------------------------------------------------------------------------------------- */
/* What the plugin answers                                                                        */

/* cppw_response.flags (ABI 1.2; 0 before): count the request as failed in the worker's figures
 * although it was answered, e.g. a 502 the plugin sends because the model server was down. */
#define CPPW_RESPONSE_FAILED UINT16_C(0x1)

typedef struct cppw_response {
    uint32_t struct_size;
    uint16_t status;           /* HTTP status, 100..599 */
    uint16_t flags;            /* CPPW_RESPONSE_* bits; "reserved", always 0, before ABI 1.2 */
    cppw_str content_type;     /* empty: "application/json" */
    const cppw_header* headers;
    size_t header_count;
    cppw_str body;
} cppw_response;

/* ---------------------------------------------------------------------------------------------- */
/* Plugin metrics                                                                                 */

typedef enum cppw_metric_type {
    CPPW_METRIC_COUNTER = 0,
    CPPW_METRIC_GAUGE = 1
} cppw_metric_type;

typedef struct cppw_metric {
    uint32_t struct_size;
    uint32_t type;             /* a cppw_metric_type */
    cppw_str name;             /* [a-zA-Z_][a-zA-Z0-9_]*; the host prefixes "cppworker_plugin_" */
    cppw_str help;
    double value;
} cppw_metric;

/* Handed to the `metrics` hook; valid until the hook returns. */
typedef struct cppw_metrics_sink cppw_metrics_sink;

/* ---------------------------------------------------------------------------------------------- */
/* Readiness (ABI 1.1)                                                                            */

/* How the backend becomes ready and how its throughput is measured. Static storage; read, like the
 * descriptor, before any plugin code runs. Pattern lists are NULL-terminated arrays of
 * NUL-terminated strings, matched as substrings of MODEL_LOG lines in this order: load, error,
 * info. Without load patterns (or without MODEL_LOG) the host polls the `ready` hook instead. */
typedef struct cppw_readiness {
    uint32_t struct_size;
    uint32_t benchmark_route;          /* index of the route the benchmark drives */
    uint32_t benchmark_runs;           /* 0: 8 */
    uint32_t benchmark_concurrency;    /* 0: 10; 1 on FIFO routes */
    const char* const* load_patterns;  /* the model finished loading */
    const char* const* error_patterns; /* the model failed; the pattern becomes the error message */
    const char* const* info_patterns;  /* echoed to the worker log */
    const char* health_path;           /* GET on MODEL_SERVER_URL once loaded (200 = healthy), or NULL */
} cppw_readiness;

/* Handed to the `benchmark` hook; valid until the hook returns. */
typedef struct cppw_payload_sink cppw_payload_sink;

/* ---------------------------------------------------------------------------------------------- */
/* Forwarding to the model server (ABI 1.2)                                                       */

/* What becomes of the model server's answer. */
typedef enum cppw_forward_mode {
    /* The host answers the client with it and completes the request: same status, headers (less
     * the hop-by-hop ones) and content type; streamed chunk by chunk when it streams (SSE, NDJSON,
     * JSON lines, a content type naming "stream", or chunked transfer), whole otherwise. A plugin
     * must not complete the request itself, nor forward it again. */
    CPPW_FORWARD_RELAY = 0,
    /* The answer goes to the callbacks: on_head, then on_data once with the whole body, then
     * on_done. The request stays the plugin's to complete, so it may forward more than once for
     * one request (submit, then poll). */
    CPPW_FORWARD_BODY = 1,
    /* As BODY, but on_data gets each piece of the body as it arrives (chunked framing removed), for
     * a plugin that rewrites a stream or counts its tokens. The host reads the next piece only
     * while the client keeps up with what the plugin wrote to it (backpressure), so write what you
     * make of a piece from inside on_data. */
    CPPW_FORWARD_CHUNKS = 2
} cppw_forward_mode;

/* The head of the model server's answer, lent to on_head until it returns. */
typedef struct cppw_upstream_head {
    uint32_t struct_size;
    uint16_t status;           /* the model server's HTTP status, passed on as it is */
    uint16_t streaming;        /* 1 when the answer streams (the rules of CPPW_FORWARD_RELAY) */
    cppw_str content_type;
    const cppw_header* headers; /* all of the answer's headers */
    size_t header_count;
} cppw_upstream_head;

/* One request to the model server at MODEL_SERVER_URL (or the plugin's default, see the
 * descriptor). Copied by `forward` before it returns, except `user`, which the callbacks get. */
typedef struct cppw_forward {
    uint32_t struct_size;
    uint32_t method;           /* a cppw_method */
    cppw_str target;           /* path and query, starting with '/'; appended to the base URL's path */
    cppw_str content_type;     /* of body; empty: "application/json" */
    const cppw_header* headers; /* extra headers (Host, Content-Length and Connection are the host's) */
    size_t header_count;
    cppw_str body;
    uint32_t mode;             /* a cppw_forward_mode */
    uint32_t reserved;         /* 0 */
    void* user;                /* handed back to every callback */

    /* BODY and CHUNKS modes: the callbacks run on the host's I/O threads (at shutdown, on_done may
     * run on the main thread before `finalize`), one at a time and in this order for one forward;
     * they must not block. on_head and on_data may be NULL. RELAY mode ignores all three. */
    void (*on_head)(void* user, cppw_request_id request, const cppw_upstream_head* head);
    void (*on_data)(void* user, cppw_request_id request, cppw_str data);
    /* Exactly once per accepted BODY or CHUNKS forward, last; after it the host forgets `user`.
     * `status` is CPPW_OK when the whole answer arrived (whatever its HTTP status);
     * CPPW_UPSTREAM_UNREACHABLE, CPPW_UPSTREAM_TIMEOUT or CPPW_ERROR (malformed answer) with a
     * message; or CPPW_CANCELLED when the client left or the request was completed first: the host
     * then closed the connection to the model server, which sees the disconnect. The message view
     * dies when on_done returns. */
    void (*on_done)(void* user, cppw_request_id request, cppw_status status, cppw_str message);
} cppw_forward;

/* ---------------------------------------------------------------------------------------------- */
/* Reading JSON without a JSON library (ABI 1.3)                                                  */

typedef enum cppw_json_type {
    CPPW_JSON_MISSING = 0, /* nothing at that pointer */
    CPPW_JSON_NULL = 1,
    CPPW_JSON_BOOL = 2,
    CPPW_JSON_NUMBER = 3,
    CPPW_JSON_STRING = 4,
    CPPW_JSON_ARRAY = 5,
    CPPW_JSON_OBJECT = 6
} cppw_json_type;

/* What json_get found. Set struct_size to sizeof(cppw_json_value) before the call. */
typedef struct cppw_json_value {
    uint32_t struct_size;
    uint32_t type;             /* a cppw_json_type */
    int32_t boolean;           /* BOOL: 0 or 1 */
    int32_t is_integer;        /* NUMBER: 1 when it is a whole number that fits in int64_t */
    int64_t integer;           /* NUMBER with is_integer */
    double number;             /* NUMBER, integers included */
    size_t text_size;          /* bytes of the value's text (see json_get), without the NUL */
} cppw_json_value;

/* ---------------------------------------------------------------------------------------------- */
/* Timers (ABI 1.4)                                                                               */

/* Called back by the host for a timer started with `timer_start`: `status` is CPPW_OK when the
 * delay passed and the request is still open, CPPW_CANCELLED when the host gave the request up
 * first. `user` is what was passed to timer_start. */
typedef void (*cppw_timer_fn)(void* user, cppw_request_id request, cppw_status status);

/* ---------------------------------------------------------------------------------------------- */
/* Host services                                                                                  */

typedef struct cppw_host_services {
    uint32_t struct_size;      /* sizeof as the host was built: check it before using later fields */
    uint16_t abi_major;
    uint16_t abi_minor;
    cppw_host* host;

    /* Write a line to the worker log, attributed to the plugin. */
    void (*log)(cppw_host* host, cppw_log_level level, cppw_str message);

    /* Look up a configuration value: first `--plugin-option key=value` given to the worker, then
     * the environment variable of that name. The view stays valid until `finalize` returns.
     * Returns CPPW_OK or CPPW_NOT_FOUND. */
    cppw_status (*config_get)(cppw_host* host, cppw_str key, cppw_str* value);

    /* Complete a request with a whole answer. Returns CPPW_OK; or CPPW_CANCELLED when the client
     * has left or the host gave the request up: the request is completed all the same and the
     * answer dropped, so this is no error of the plugin's (from `handle`, return CPPW_OK after it);
     * CPPW_INVALID_ARGUMENT (a malformed answer: the request stays open); CPPW_WRONG_STATE (a
     * stream has begun, or the host relays the answer); CPPW_UNKNOWN_REQUEST (completed already). */
    cppw_status (*respond)(cppw_host* host, cppw_request_id request, const cppw_response* response);

    /* Start a streamed answer (chunked transfer): status, content type and headers; the body
     * field of `head` is ignored. Then any number of stream_write, then stream_end. */
    cppw_status (*stream_begin)(cppw_host* host, cppw_request_id request, const cppw_response* head);

    /* Queue one chunk; it is copied and sent as soon as the client can take it. Returns CPPW_OK,
     * or CPPW_BACKPRESSURE when more than the host's high-water mark is waiting for the client
     * (the chunk is still queued: slow down, see stream_wait), or CPPW_CANCELLED. */
    cppw_status (*stream_write)(cppw_host* host, cppw_request_id request, cppw_str chunk);

    /* Block until the queued data of a stream drops under the low-water mark, the client leaves,
     * or `timeout_ms` passes. Only for the plugin's own threads or blocking routes: on an I/O
     * thread it returns CPPW_WRONG_STATE at once. Returns CPPW_OK, CPPW_CANCELLED or CPPW_BACKPRESSURE
     * (timed out). */
    cppw_status (*stream_wait)(cppw_host* host, cppw_request_id request, uint32_t timeout_ms);

    /* Complete a streamed answer. With `status` other than CPPW_OK the stream is cut short (the
     * client sees a truncated chunked body) and the request is counted as failed. Returns as
     * respond does: CPPW_CANCELLED too means the request is completed. */
    cppw_status (*stream_end)(cppw_host* host, cppw_request_id request, cppw_status status);

    /* 1 when an answer to the request can no longer reach anyone: its client left, the host gave
     * it up (a deadline passed, its session closed, shutdown), or it is no longer open (completed,
     * or an id the host does not know). 0 while the plugin may still answer it. Cheap; poll it
     * during long work, and stop when it says 1. */
    int (*is_cancelled)(cppw_host* host, cppw_request_id request);

    /* ABI 1.2 (NULL before). Send a request to the model server on the host's kept-alive
     * connections and deliver the answer as `forward->mode` says. Returns CPPW_OK when it started
     * (then, in BODY and CHUNKS modes, on_done will follow). Otherwise nothing is sent and no callback runs: CPPW_INVALID_ARGUMENT,
     * CPPW_CANCELLED (the client already left), CPPW_UNKNOWN_REQUEST or CPPW_WRONG_STATE (the
     * request was completed, or relayed already), CPPW_UNSUPPORTED (the server is not up, or has
     * stopped). Any thread.
     * ABI 1.3: with `request` CPPW_NO_REQUEST the forward belongs to no client request, so it runs
     * after its client left too (from the `cancel` hook, say): BODY or CHUNKS mode only (RELAY is
     * CPPW_INVALID_ARGUMENT), bounded by the worker's upstream timeouts, ended with CPPW_CANCELLED
     * at shutdown. The callbacks get CPPW_NO_REQUEST as their `request`. */
    cppw_status (*forward)(cppw_host* host, cppw_request_id request, const cppw_forward* forward);

    /* Used inside the `metrics` hook only: report one value. */
    cppw_status (*metric)(cppw_metrics_sink* sink, const cppw_metric* metric);

    /* ABI 1.1. Used inside the `benchmark` hook only: the JSON text of one request payload. */
    cppw_status (*payload)(cppw_payload_sink* sink, cppw_str json);

    /* ABI 1.3 (absent before: check with CPPW_HAS_SERVICE). Read the value at `pointer` (RFC 6901:
     * "" is the whole document, "/parameters/max_new_tokens" a member of a member, "/prompts/0" an
     * element) in the JSON text `json`, typically a request's payload. Fills `value`, and writes the
     * value's text into `text` (NUL-terminated, truncated to `capacity`): a string unescaped
     * (UTF-8), anything else as compact JSON. `value->text_size` says how long the whole text is,
     * so a plugin can call again with a larger buffer; `text` may be NULL when `capacity` is 0.
     * Returns CPPW_OK (a missing member is CPPW_OK with type CPPW_JSON_MISSING), or
     * CPPW_INVALID_ARGUMENT when `json` is not JSON, the pointer is malformed (it must be empty or
     * start with '/'; '~' only as ~0 or ~1), or `value` is NULL or too small. Any thread; parses
     * `json` on each call. */
    cppw_status (*json_get)(cppw_str json, cppw_str pointer, cppw_json_value* value, char* text, size_t capacity);

    /* ABI 1.3 (absent before: check with CPPW_HAS_SERVICE). Inside `workload`, for its request:
     * hand `request_state` to `handle` (see PER-REQUEST STATE above). Returns CPPW_OK;
     * CPPW_UNSUPPORTED when the descriptor has no `release_state` hook (without one a refused
     * request would leak it); CPPW_WRONG_STATE when something is attached already or `handle`
     * has been called; CPPW_UNKNOWN_REQUEST. On any error the host does not take the pointer. */
    cppw_status (*attach_state)(cppw_host* host, cppw_request_id request, void* request_state);

    /* ABI 1.4 (absent before: check with CPPW_HAS_SERVICE). Wait without a thread: calls
     * `callback(user, request, status)` once `delay_ms` milliseconds have passed, on the request's
     * event loop, so a plugin that polls a model server, backs off or paces a stream holds neither
     * a thread of the blocking pool nor one of its own meanwhile. The timer belongs to `request`,
     * which `handle` was given and has not completed (on any route, blocking ones included).
     * Exactly one of these happens to every timer started:
     *   - the callback runs with CPPW_OK: the delay passed and the request is still open;
     *   - the callback runs with CPPW_CANCELLED, as soon as the host gives the request up (client
     *     gone, a deadline passed, its session closed, shutdown), without waiting for the delay.
     *     The request must still be completed (the answer is dropped): this is the place;
     *   - the callback never runs: the request was completed first (by the plugin, or by the host
     *     relaying a forward). Nor does any callback run after `finalize`. The host forgets `user`
     *     then, so what it points to is the plugin's to free when it completes the request. From
     *     the request's own loop (inside one of its timer or forward callbacks) that is safe: no
     *     callback of the request runs meanwhile.
     * Whether and how the callback runs is decided on the request's loop just before it runs:
     * after a completion on another thread it is dropped; a completion racing it from another
     * thread may find it running. It runs on the request's event loop: the I/O thread of the
     * client's connection, where a route that does not block runs `handle` and where the forwards
     * it starts call back; at shutdown, after the loops stopped, on the main thread, before
     * `finalize`. It never runs inside another host service call (timer_start included) nor at
     * the same time as another callback of the same request's timers; it must not block, and may
     * call any service, timer_start again too. Timers that fall due together have no set order.
     * Returns CPPW_OK, or why no timer was started (the callback will then never run):
     * CPPW_INVALID_ARGUMENT (no callback, or CPPW_NO_REQUEST), CPPW_UNKNOWN_REQUEST (completed, or
     * never existed), CPPW_CANCELLED (already given up), CPPW_WRONG_STATE (its answer is relayed by
     * the host, or `handle` has not been called yet: not from `workload`), CPPW_UNSUPPORTED (the
     * worker is not serving). Any thread. */
    cppw_status (*timer_start)(cppw_host* host, cppw_request_id request, uint32_t delay_ms,
                               cppw_timer_fn callback, void* user);
} cppw_host_services;

/* Whether the host offers a service added in a later minor: its table is long enough to hold the
 * field, and the field is set. E.g. CPPW_HAS_SERVICE(services, json_get) (1.3),
 * CPPW_HAS_SERVICE(services, timer_start) (1.4): false on an older host, whose table ends before. */
#define CPPW_HAS_SERVICE(services, field)                                                          \
    ((services)->struct_size >= offsetof(cppw_host_services, field) + sizeof((services)->field) && \
     (services)->field != NULL)

/* ---------------------------------------------------------------------------------------------- */
/* Hooks                                                                                          */

/* Called once, before any other hook, on the main thread. `services` (and the table it points to)
 * stays valid until `finalize` returns. Set *state to whatever the other hooks should receive.
 * Return CPPW_OK, or an error with a message in `error`: the worker then refuses to start. */
typedef cppw_status (*cppw_init_fn)(const cppw_host_services* services, void** state,
                                     cppw_error_buf error);

/* Optional. 1 when the plugin can serve (model loaded), 0 while loading. Polled from I/O threads:
 * must return at once. Absent: ready as soon as `init` succeeded. */
typedef int (*cppw_ready_fn)(void* state);

/* Optional. Set *workload to the amount of work this request is (tokens, pixels x steps, ...),
 * before it is admitted and queued. I/O thread. Absent: every request is 100.
 * A non-OK return refuses the request with 422 and the message. */
typedef cppw_status (*cppw_workload_fn)(void* state, const cppw_request_info* request,
                                         double* workload, cppw_error_buf error);

/* Required. Start work on a request; everything in `request` is valid until this returns, so copy
 * what you keep. I/O thread, or the blocking pool for CPPW_ROUTE_BLOCKING routes (never called for
 * a request given up while it waited for a pool thread).
 * Return CPPW_OK once you own completing the request, and also when you completed it already,
 * whatever respond or stream_end returned (CPPW_CANCELLED from them means the client left: the
 * request is completed all the same). Any other return means you did not accept the request: the
 * host answers 500 with the message. Returned after the request was completed, it changes nothing
 * (the host logs it as a plugin bug). */
typedef cppw_status (*cppw_handle_fn)(void* state, const cppw_request_info* request,
                                       cppw_error_buf error);

/* Optional. Report the plugin's own metrics through services->metric(sink, ...). I/O thread. */
typedef void (*cppw_metrics_fn)(void* state, cppw_metrics_sink* sink);

/* Optional (ABI 1.1). Give the payload of benchmark request number `index` through
 * services->payload(sink, json). The host sends these through the normal path of the
 * readiness's benchmark route, sized by the `workload` hook. I/O thread. A non-OK return, or no
 * payload, ends the benchmark: max_perf stays 0. */
typedef cppw_status (*cppw_benchmark_fn)(void* state, uint32_t index, cppw_payload_sink* sink);

/* Optional (ABI 1.3). The host gave up `request`, which was handed to `handle` and was not
 * completed (relayed forwards included): its client left, a deadline passed, its session closed,
 * or the worker is shutting down. Called at most once per request, never for one that was
 * completed before the host gave it up; but it may come while `handle` still runs (a blocking
 * route doing its work inside `handle`), or while the plugin is completing the request on another
 * thread, so treat an id it does not know (any more) as nothing to do. The request must still be
 * completed (the host drops the answer). Runs on an I/O thread (at shutdown, on the main thread
 * before `finalize`), possibly concurrently for different requests; must not block: start the
 * cleanup (a forward with CPPW_NO_REQUEST, a flag your worker thread reads) and return. */
typedef void (*cppw_cancel_fn)(void* state, cppw_request_id request);

/* Optional (ABI 1.3); required to use `attach_state`. Frees a pointer attached by `workload` for a
 * request that never reached `handle`. Any thread, never after `finalize`; must not block. */
typedef void (*cppw_release_state_fn)(void* state, void* request_state);

/* Optional. Called once on the main thread after the server has stopped and no other hook runs.
 * Stop and join every thread you started, free `state`. Requests you never completed are
 * abandoned; do not call host services for them after finalize returns. */
typedef void (*cppw_finalize_fn)(void* state);

/* ---------------------------------------------------------------------------------------------- */
/* The descriptor                                                                                 */

typedef struct cppw_plugin_descriptor {
    /* These four fields keep their place in every ABI major, so any host can tell what it found. */
    uint64_t magic;            /* CPPW_PLUGIN_MAGIC */
    uint32_t abi_major;        /* CPPW_ABI_MAJOR the plugin was built against */
    uint32_t abi_minor;        /* CPPW_ABI_MINOR the plugin was built against */
    uint32_t struct_size;      /* sizeof(cppw_plugin_descriptor) as the plugin was built */

    uint32_t route_count;
    const cppw_route* routes;  /* route_count entries, each route_struct_size bytes apart */
    uint32_t route_struct_size;
    uint32_t reserved;
    const char* name;          /* NUL-terminated, e.g. "hello_world" */
    const char* version;       /* NUL-terminated, the plugin's own version */

    cppw_init_fn init;         /* optional */
    cppw_ready_fn ready;       /* optional */
    cppw_workload_fn workload; /* optional */
    cppw_handle_fn handle;     /* required */
    cppw_metrics_fn metrics;   /* optional */
    cppw_finalize_fn finalize; /* optional */

    /* ABI 1.1 */
    const cppw_readiness* readiness; /* optional: NULL = ready through the `ready` hook */
    cppw_benchmark_fn benchmark;     /* optional: no benchmark, max_perf stays 0 */

    /* ABI 1.2 */
    const char* model_server_url;    /* optional: base URL used when MODEL_SERVER_URL is unset,
                                      * e.g. "http://127.0.0.1:5001"; NULL: none */

    /* ABI 1.3 */
    cppw_cancel_fn cancel;                 /* optional */
    cppw_release_state_fn release_state;   /* optional; required by attach_state */
} cppw_plugin_descriptor;

/* Helpers for C (C99) and C++ alike.
 *
 * A route that runs every request at once, with no queue limit:
 *     CPPW_ROUTE(CPPW_METHOD_POST, "/generate")
 * One with its concurrency, limit, flags and max_queue_time (seconds; < 0: none):
 *     CPPW_ROUTE_WITH(CPPW_METHOD_POST, "/txt2img", CPPW_CONCURRENCY_FIFO, 0, CPPW_ROUTE_BLOCKING, 30.0)
 *
 * The descriptor, with the fixed fields filled in: name, version and a routes array, then the
 * hooks as designated initializers, in the order the struct declares them (C++ requires it):
 *     static const cppw_route routes[] = {CPPW_ROUTE(CPPW_METHOD_POST, "/count")};
 *     CPPW_DEFINE_PLUGIN = CPPW_PLUGIN("counter", "1.0.0", routes, .init = init, .workload = workload,
 *                                      .handle = handle, .finalize = finalize);
 * Hooks left out are NULL. In C++, GCC's -Wmissing-field-initializers (part of -Wextra) names each
 * one left out; the C++ SDK (plugin.hpp) builds the descriptor for you instead.
 */
#define CPPW_ROUTE_WITH(method_, path_, concurrency_, limit_, flags_, max_queue_time_) \
    {sizeof(cppw_route), (method_), (path_), (concurrency_), (limit_), (flags_), (max_queue_time_)}
#define CPPW_ROUTE(method_, path_) CPPW_ROUTE_WITH(method_, path_, CPPW_CONCURRENCY_PARALLEL, 0, 0, -1.0)
#define CPPW_PLUGIN(name_, version_, routes_, ...)                                                 \
    {.magic = CPPW_PLUGIN_MAGIC, .abi_major = CPPW_ABI_MAJOR, .abi_minor = CPPW_ABI_MINOR,         \
     .struct_size = sizeof(cppw_plugin_descriptor),                                                \
     .route_count = (uint32_t)(sizeof(routes_) / sizeof((routes_)[0])), .routes = (routes_),       \
     .route_struct_size = sizeof(cppw_route), .name = (name_), .version = (version_), __VA_ARGS__}

/* Define the exported descriptor in a plugin:  CPPW_DEFINE_PLUGIN = { CPPW_PLUGIN_MAGIC, ... }; */
#ifdef __cplusplus
#define CPPW_DEFINE_PLUGIN \
    extern "C" CPPW_EXPORT const cppw_plugin_descriptor cppworker_plugin; \
    extern "C" CPPW_EXPORT const cppw_plugin_descriptor cppworker_plugin
#else
#define CPPW_DEFINE_PLUGIN CPPW_EXPORT const cppw_plugin_descriptor cppworker_plugin
#endif

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* CPPWORKER_PLUGIN_H */
