// Boost.JSON compiled into the fuzz build rather than linked: instrumented, its parser's branches
// guide the fuzzer too, and the sanitizers see inside it.
#include <boost/json/src.hpp>
