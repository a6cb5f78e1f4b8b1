#pragma once

#include "upstream/forwarder.hpp"

#include <cppworker/plugin.h>

#include <memory>

namespace cppworker::plugin {

// Hands a forward's answer to the plugin's callbacks (CPPW_FORWARD_BODY / CPPW_FORWARD_CHUNKS).
std::unique_ptr<upstream::AnswerSink> make_plugin_sink(const cppw_forward& forward, cppw_request_id request);

}  // namespace cppworker::plugin
