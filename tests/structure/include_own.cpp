// Compiled with cppworker_auth's include path by the test core_include_of_a_linked_library: what
// auth links, it sees.
#include "auth/authenticator.hpp"
#include "pyjson/dumps.hpp"
