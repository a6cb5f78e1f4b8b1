/* Zoo: a well-formed shared object that is not a plugin. The version script exports only
 * `cppworker_plugin`, which this file never defines, so the object exports nothing at all. */
#include <cppworker/plugin.h>

int zoo_no_descriptor_answer(void) { return CPPW_ABI_MAJOR; }
