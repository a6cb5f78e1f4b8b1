/* Zoo: the same method and path twice, so a request could not tell which route it is for. */
#include "zoo.h"

static const cppw_route routes[] = {
    {sizeof(cppw_route), CPPW_METHOD_POST, "/run", CPPW_CONCURRENCY_PARALLEL, 0, 0, -1.0},
    {sizeof(cppw_route), CPPW_METHOD_GET, "/run", CPPW_CONCURRENCY_PARALLEL, 0, 0, -1.0},
    {sizeof(cppw_route), CPPW_METHOD_POST, "/run", CPPW_CONCURRENCY_FIFO, 0, 0, -1.0},
};

CPPW_DEFINE_PLUGIN = {
    CPPW_PLUGIN_MAGIC, CPPW_ABI_MAJOR, CPPW_ABI_MINOR, sizeof(cppw_plugin_descriptor),
    sizeof routes / sizeof routes[0], routes, sizeof(cppw_route), 0,
    "zoo_duplicate_route", "1.0.0",
    NULL, NULL, NULL, zoo_accept, NULL, NULL,
    NULL, NULL,
    NULL,
    NULL, NULL,
};
