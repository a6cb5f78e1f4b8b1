#pragma once

#include "requests/pending_request.hpp"
#include "upstream/forwarder.hpp"

#include <memory>

namespace cppworker::upstream {

// Answers the client with the model server's answer (CPPW_FORWARD_RELAY): whole, or streamed
// chunk by chunk when it streams; 502 / 504 when the model server could not be reached in time.
std::unique_ptr<AnswerSink> make_relay_sink(std::shared_ptr<requests::PendingRequest> pending);

// The answer a failed forward gets: 502, 504 or 500 with {"error": message}, counted as failed.
requests::Answer failed_forward_answer(cppw_status status, std::string_view message);

}  // namespace cppworker::upstream
