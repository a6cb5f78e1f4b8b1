#pragma once

namespace cppworker::async {

// I/O threads mark themselves so that blocking host services can refuse to run there instead of
// stalling every connection on that thread.
void mark_io_thread();
bool on_io_thread();

}  // namespace cppworker::async
