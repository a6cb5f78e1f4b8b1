#pragma once

#include <string_view>

namespace cppworker::auth {

// Whether an Authorization header carries the master token, read as PyWorker reads it: "Bearer
// <token>" or the bare token. Unlike PyWorker, an empty master token matches nothing (PyWorker lets
// a request without the header through when MASTER_TOKEN is unset), and the comparison takes the
// same time wherever the first differing byte is, so timing reveals at most the token's length.
bool master_token_matches(std::string_view master_token, std::string_view authorization);

}  // namespace cppworker::auth
