/* Zoo: struct_size covers only the four fields that keep their place in every major, as if the
 * descriptor ended there; the host must not read hooks past the size the plugin stated. */
#include "zoo.h"

#include <stddef.h>

CPPW_DEFINE_PLUGIN = {
    CPPW_PLUGIN_MAGIC, CPPW_ABI_MAJOR, CPPW_ABI_MINOR, offsetof(cppw_plugin_descriptor, route_count),
    1, zoo_routes, sizeof(cppw_route), 0,
    "zoo_small_descriptor", "1.0.0",
    NULL, NULL, NULL, zoo_accept, NULL, NULL,
    NULL, NULL,
    NULL,
    NULL, NULL,
};
