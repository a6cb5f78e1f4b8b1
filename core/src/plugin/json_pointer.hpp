#pragma once

#include <cppworker/plugin.h>

namespace cppworker::plugin {

// The json_get host service (ABI 1.3): reads the value at an RFC 6901 pointer in a JSON text, so a
// C plugin can validate and read its payload without a JSON library. A pure function.
cppw_status json_get(cppw_str json, cppw_str pointer, cppw_json_value* value, char* text, size_t capacity);

}  // namespace cppworker::plugin
