/* Zoo: no handle hook, the one hook the ABI requires. */
#include "zoo.h"

CPPW_DEFINE_PLUGIN = {
    CPPW_PLUGIN_MAGIC, CPPW_ABI_MAJOR, CPPW_ABI_MINOR, sizeof(cppw_plugin_descriptor),
    1, zoo_routes, sizeof(cppw_route), 0,
    "zoo_missing_handle", "1.0.0",
    NULL, NULL, NULL, NULL, NULL, NULL,
    NULL, NULL,
    NULL,
    NULL, NULL,
};
