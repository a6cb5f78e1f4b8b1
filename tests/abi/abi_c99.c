/* plugin.h as strict C99, and the layout the C compiler gives it checked against the C++
 * compiler's: a plugin written in one language and a host in the other must agree. */
#include <cppworker/plugin.h>

#include "abi_layout.h"

#include <stdio.h>
#include <string.h>

/* C99 has no static_assert: an array of size -1 is a compile error. */
#define ABI_STATIC_ASSERT(name, condition) typedef char abi_static_assert_##name[(condition) ? 1 : -1]

/* The four fields every ABI major keeps in place, so any host can read them. */
ABI_STATIC_ASSERT(magic_at_0, offsetof(cppw_plugin_descriptor, magic) == 0);
ABI_STATIC_ASSERT(abi_major_at_8, offsetof(cppw_plugin_descriptor, abi_major) == 8);
ABI_STATIC_ASSERT(abi_minor_at_12, offsetof(cppw_plugin_descriptor, abi_minor) == 12);
ABI_STATIC_ASSERT(struct_size_at_16, offsetof(cppw_plugin_descriptor, struct_size) == 16);

/* ABI 1.4 appended timer_start to the host services, after the last 1.3 service and nothing else:
 * a 1.3 host's table ends where it begins, which is how CPPW_HAS_SERVICE tells them apart. */
ABI_STATIC_ASSERT(timer_start_appended,
                  offsetof(cppw_host_services, timer_start) ==
                      offsetof(cppw_host_services, attach_state) + sizeof(void (*)(void)));
ABI_STATIC_ASSERT(timer_start_last, sizeof(cppw_host_services) ==
                                        offsetof(cppw_host_services, timer_start) + sizeof(cppw_status(*)(void)));

static cppw_status handle(void* state, const cppw_request_info* request, cppw_error_buf error) {
    (void)state, (void)request, (void)error;
    return CPPW_OK;
}

static const cppw_route routes[] = {
    {sizeof(cppw_route), CPPW_METHOD_POST, "/run", CPPW_CONCURRENCY_PARALLEL, 0, 0, -1.0},
};

/* Proves the export macro is valid C99 too. */
CPPW_DEFINE_PLUGIN = {
    CPPW_PLUGIN_MAGIC, CPPW_ABI_MAJOR, CPPW_ABI_MINOR, sizeof(cppw_plugin_descriptor),
    1, routes, sizeof(cppw_route), 0,
    "abi_c99", "1.0.0",
    NULL, NULL, NULL, handle, NULL, NULL,
    NULL, NULL,
    NULL,
    NULL, NULL,
};

/* The C helpers build, in C99, what the positional initializers above spell out. */
static const cppw_route helper_routes[] = {
    CPPW_ROUTE(CPPW_METHOD_POST, "/run"),
    CPPW_ROUTE_WITH(CPPW_METHOD_GET, "/slow", CPPW_CONCURRENCY_LIMIT, 2, CPPW_ROUTE_BLOCKING, 30.0),
};
static const cppw_plugin_descriptor made_with_helpers =
    CPPW_PLUGIN("abi_c99", "1.0.0", helper_routes, .handle = handle);

static int helpers_agree(void) {
    const cppw_route* slow = &made_with_helpers.routes[1];
    return made_with_helpers.magic == CPPW_PLUGIN_MAGIC && made_with_helpers.abi_major == CPPW_ABI_MAJOR &&
           made_with_helpers.abi_minor == CPPW_ABI_MINOR &&
           made_with_helpers.struct_size == sizeof(cppw_plugin_descriptor) && made_with_helpers.route_count == 2 &&
           made_with_helpers.route_struct_size == sizeof(cppw_route) && made_with_helpers.handle == handle &&
           made_with_helpers.init == NULL && strcmp(made_with_helpers.name, "abi_c99") == 0 &&
           memcmp(&made_with_helpers.routes[0], &routes[0], sizeof(cppw_route)) == 0 &&
           slow->method == CPPW_METHOD_GET && slow->concurrency == CPPW_CONCURRENCY_LIMIT && slow->limit == 2 &&
           slow->flags == CPPW_ROUTE_BLOCKING && slow->max_queue_time == 30.0;
}

#define ABI_C_ENTRY(expr) expr,
#define ABI_NAME_ENTRY(expr) #expr,
static const size_t c_layout[] = {CPPW_ABI_LAYOUT(ABI_C_ENTRY)};
static const char* const layout_names[] = {CPPW_ABI_LAYOUT(ABI_NAME_ENTRY)};

int main(void) {
    int failures = 0;
    size_t i;
    /* A host identifies a plugin by these bytes in memory, whatever the machine's byte order. */
    if (memcmp(&cppworker_plugin.magic, "CPPWRKR\1", 8) != 0) {
        fprintf(stderr, "the descriptor does not start with \"CPPWRKR\\1\" in memory\n");
        ++failures;
    }
    if (!helpers_agree()) {
        fprintf(stderr, "CPPW_PLUGIN / CPPW_ROUTE built another descriptor than the one spelled out\n");
        ++failures;
    }
    if (cppw_abi_cpp_layout_count != sizeof c_layout / sizeof c_layout[0]) {
        fprintf(stderr, "C++ saw %zu layout entries, C %zu\n", cppw_abi_cpp_layout_count,
                sizeof c_layout / sizeof c_layout[0]);
        return 1;
    }
    for (i = 0; i < cppw_abi_cpp_layout_count; ++i) {
        if (c_layout[i] != cppw_abi_cpp_layout[i]) {
            fprintf(stderr, "%s: %zu in C, %zu in C++\n", layout_names[i], c_layout[i], cppw_abi_cpp_layout[i]);
            ++failures;
        }
    }
    if (failures == 0) printf("C99 and C++ agree on all %zu sizes and offsets\n", cppw_abi_cpp_layout_count);
    return failures == 0 ? 0 : 1;
}
