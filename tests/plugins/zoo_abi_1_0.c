/* Not broken: a plugin as built against ABI 1.0, whose descriptor ends before the 1.1 fields.
 * A 1.1 host must load it and read nothing past its struct_size. */
#include "zoo.h"

#include <stddef.h>

CPPW_DEFINE_PLUGIN = {
    CPPW_PLUGIN_MAGIC, CPPW_ABI_MAJOR, 0, offsetof(cppw_plugin_descriptor, readiness),
    1, zoo_routes, sizeof(cppw_route), 0,
    "zoo_abi_1_0", "1.0.0",
    NULL, NULL, NULL, zoo_accept, NULL, NULL,
    /* What a 1.0 build would not have had: garbage, to prove the host does not read it. */
    (const cppw_readiness*)1, (cppw_benchmark_fn)1,
    (const char*)1,
    (cppw_cancel_fn)1, (cppw_release_state_fn)1,
};
