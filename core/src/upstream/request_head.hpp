#pragma once

#include "http1/url.hpp"
#include "upstream/forwarder.hpp"

#include <memory_resource>
#include <string>

namespace cppworker::upstream {

// The head of `call` as bytes, for the model server at `base`, appended to `out`. The framing and the connection are
// the host's (plugin.h says so): a plugin's Host, Content-Length, Transfer-Encoding or Connection
// header is not sent. A POST, PUT or PATCH always has a Content-Type (application/json by default)
// and a Content-Length, even when its body is empty.
void request_head(std::pmr::string& out, const UpstreamCall& call, const http1::Url& base);

}  // namespace cppworker::upstream
