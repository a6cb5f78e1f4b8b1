#include "async/io_thread.hpp"

namespace cppworker::async {
namespace {
thread_local bool io_thread = false;
}

void mark_io_thread() { io_thread = true; }
bool on_io_thread() { return io_thread; }

}  // namespace cppworker::async
