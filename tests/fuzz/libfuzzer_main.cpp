// The libFuzzer entry of one target, built once per target with CPPWORKER_FUZZ_ENTRY naming its
// body (run_<target>, see fuzz_support.hpp).
#include "fuzz_support.hpp"

#ifndef CPPWORKER_FUZZ_ENTRY
#error "CPPWORKER_FUZZ_ENTRY must name the target's body"
#endif

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    return cppworker_fuzz::CPPWORKER_FUZZ_ENTRY(data, size);
}
