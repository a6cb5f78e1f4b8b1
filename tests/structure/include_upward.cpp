// Compiled with cppworker_auth's include path by the test core_include_against_the_graph, which
// expects it to fail: auth (layer 1) cannot see the pipeline (layer 5).
#include "pipeline/pipeline.hpp"
