#pragma once

#include "config/config.hpp"

namespace cppworker::supervisor {

// --supervise: this process binds the port once and runs the worker as a child process (this
// executable again, with the same arguments) that inherits the listening socket. It never loads
// the plugin itself, so a plugin's crash cannot take it down and no plugin is ever unloaded in a
// live process.
//  - SIGHUP: a new worker loads the plugin file afresh; once loaded it accepts, and the old one
//    stops accepting, drains (--drain-timeout), sends its last reports and exits. Connections
//    waiting in the shared backlog are taken by whichever accepts, so none is refused.
//  - A worker that dies unasked is started again: at once after the first crash, then with a
//    doubling pause; the 5th crash within 60 s gives up (start-up beacon, exit 1). The new worker
//    names the crash in error_msg until it is loaded.
//  - Exactly one worker reports to the autoscaler at a time: the master hands a token, with the
//    figures to continue from, to the oldest serving worker once the one before it has exited.
//  - SIGTERM / SIGINT go to every worker; the master exits when they have, 0 if the serving one did.
// Writes --port-file and <run-dir>/cppworker-<port>.pid once the first worker serves. Returns the
// exit code.
int run_master(const config::Config& cfg, int argc, char** argv);

}  // namespace cppworker::supervisor
