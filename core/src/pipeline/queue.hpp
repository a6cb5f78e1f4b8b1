#pragma once

#include "accounting/concurrency_gate.hpp"
#include "async/wakeup.hpp"
#include "pipeline/admission.hpp"
#include "pipeline/client_port.hpp"
#include "requests/pending_request.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>

namespace cppworker::pipeline {

enum class Turn { came, client_left, timed_out };

// Waits until `gate` lets the request run, its client leaves (or its session closes), or
// `deadline` passes. Only when its turn came does the request hold a slot; one that leaves as
// its turn comes passes the slot on.
boost::asio::awaitable<Turn> wait_turn(ClientPort& client, accounting::ConcurrencyGate& gate,
                                       requests::PendingRequest& pending, async::Wakeup& wake,
                                       std::chrono::steady_clock::time_point deadline);

}  // namespace cppworker::pipeline
