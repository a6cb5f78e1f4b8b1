// What a plugin answers when the host would not even start its forward (a host older than ABI 1.2,
// or a request already gone): the same for every bundled plugin.
#pragma once

#include <cppworker/plugin.hpp>

#include <string>

namespace plugin_common {

// Answers a request whose forward the host refused to start (e.g. a host older than ABI 1.2).
inline void answer_refused_forward(cppworker::Reply& reply, cppw_status status) {
    if (!reply.open()) return;
    reply.fail(500, status == CPPW_UNSUPPORTED
                        ? "this worker cannot forward to a model server (host ABI older than 1.2)"
                        : "could not forward the request to the model server (status " +
                              std::to_string(static_cast<int>(status)) + ")");
}

}  // namespace plugin_common
