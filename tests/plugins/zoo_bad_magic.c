/* Zoo: the magic with its last byte 2 instead of 1, as a descriptor of some other format would have. */
#include "zoo.h"

CPPW_DEFINE_PLUGIN = {
    UINT64_C(0x0252524B57505043), CPPW_ABI_MAJOR, CPPW_ABI_MINOR, sizeof(cppw_plugin_descriptor),
    1, zoo_routes, sizeof(cppw_route), 0,
    "zoo_bad_magic", "1.0.0",
    NULL, NULL, NULL, zoo_accept, NULL, NULL,
    NULL, NULL,
    NULL,
    NULL, NULL,
};
