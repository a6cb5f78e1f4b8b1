/* Zoo: built against an ABI major this worker does not speak. */
#include "zoo.h"

CPPW_DEFINE_PLUGIN = {
    CPPW_PLUGIN_MAGIC, CPPW_ABI_MAJOR + 1, 0, sizeof(cppw_plugin_descriptor),
    1, zoo_routes, sizeof(cppw_route), 0,
    "zoo_newer_major", "1.0.0",
    NULL, NULL, NULL, zoo_accept, NULL, NULL,
    NULL, NULL,
    NULL,
    NULL, NULL,
};
