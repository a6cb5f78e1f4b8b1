#pragma once

#include "autoscaler/report.hpp"
#include "config/config.hpp"

#include <string>

namespace cppworker::autoscaler {

// Who this worker is in reports, from CONTAINER_ID, MASTER_TOKEN and the public address.
WorkerIdentity identity_of(const config::Config& c);

// The start-up error beacon (core/protocol.md §2.1.4): one try per REPORT_ADDR address, on a loop
// of its own, before the process exits. Does nothing when standalone.
void report_startup_error(const config::Config& c, const std::string& message);

}  // namespace cppworker::autoscaler
