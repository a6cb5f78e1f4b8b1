/* Zoo: accepts every request and never answers, breaking the complete-exactly-once rule; the
 * host's deadline and shutdown are what end such a request. */
#include "zoo.h"

static const cppw_route routes[] = {
    {sizeof(cppw_route), CPPW_METHOD_POST, "/hang", CPPW_CONCURRENCY_PARALLEL, 0, 0, -1.0},
};

CPPW_DEFINE_PLUGIN = {
    CPPW_PLUGIN_MAGIC, CPPW_ABI_MAJOR, CPPW_ABI_MINOR, sizeof(cppw_plugin_descriptor),
    1, routes, sizeof(cppw_route), 0,
    "zoo_never_completes", "1.0.0",
    NULL, NULL, NULL, zoo_accept, NULL, NULL,
    NULL, NULL,
    NULL,
    NULL, NULL,
};
