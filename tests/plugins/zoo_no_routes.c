/* Zoo: a plugin that serves nothing. */
#include "zoo.h"

CPPW_DEFINE_PLUGIN = {
    CPPW_PLUGIN_MAGIC, CPPW_ABI_MAJOR, CPPW_ABI_MINOR, sizeof(cppw_plugin_descriptor),
    0, NULL, sizeof(cppw_route), 0,
    "zoo_no_routes", "1.0.0",
    NULL, NULL, NULL, zoo_accept, NULL, NULL,
    NULL, NULL,
    NULL,
    NULL, NULL,
};
