#pragma once

#include <boost/container/small_vector.hpp>

#include "metrics/figures.hpp"
#include "requests/pending_request.hpp"

#include <cppworker/plugin.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cppworker::async {
class EventLoops;
}

namespace cppworker::upstream {

// One request to the model server, owned.
struct UpstreamCall {
    cppw_method method = CPPW_METHOD_POST;
    std::string target;        // path and query, appended to the base URL's path
    std::string content_type;  // empty: application/json
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
};

// Views into the parser's fields: valid only during AnswerSink::head.
struct UpstreamHead {
    unsigned status = 0;
    bool streaming = false;
    std::string_view content_type;
    // All of them, as received; a typical answer's fit inside, with no allocation per request.
    boost::container::small_vector<std::pair<std::string_view, std::string_view>, 16> headers;
};

// Where a forward's answer goes: to the client (relay) or to the plugin's callbacks. Called on
// the forward's event loop, in order: head, data..., done (exactly once; done alone when no answer
// came).
class AnswerSink {
public:
    virtual ~AnswerSink() = default;
    virtual void head(const UpstreamHead& head) = 0;
    // Asked after head: true when the sink keeps the whole body, which is then bounded in size.
    virtual bool keeps_whole_body() const = 0;
    virtual void data(std::string_view piece) = 0;
    virtual void done(cppw_status status, std::string_view message) = 0;
};

struct ForwarderSettings {
    std::string base_url;  // MODEL_SERVER_URL, or the plugin's default; empty: none
    std::chrono::milliseconds connect_timeout{10'000};
    std::chrono::milliseconds response_timeout{600'000};  // for the head, then between body reads
    std::size_t max_body_bytes = 512 * 1024 * 1024;       // of an answer kept whole
    std::size_t max_idle_connections = 64;
    // A kept-alive connection idle for longer is closed rather than reused: under the keep-alive
    // timeout of the common model servers (uvicorn, which vLLM runs on, closes after 5 s). One that
    // was closed all the same is noticed when its request gets no answer, and sent again on a new one.
    std::chrono::milliseconds idle_lifetime{4'000};
};

// The worker's client to the model server: kept-alive connections on each of the worker's event loops,
// answers streamed to a sink with the client's backpressure, and the upstream connection closed
// the moment its request is completed or cancelled.
class Forwarder {
public:
    Forwarder(async::EventLoops& loops, ForwarderSettings settings);
    ~Forwarder();
    Forwarder(const Forwarder&) = delete;
    Forwarder& operator=(const Forwarder&) = delete;

    // Returns at once; the sink hears the rest on the calling thread's event loop (another's, if the
    // caller is no I/O thread).
    void start(std::shared_ptr<requests::PendingRequest> pending, UpstreamCall call, std::unique_ptr<AnswerSink> sink);
    // Once the event loops have stopped: ends every forward still running with CPPW_CANCELLED, so
    // no plugin callback is left owed when the plugin is finalized.
    void abandon_all();
    metrics::UpstreamStats stats() const;

    struct Impl;

private:
    std::shared_ptr<Impl> impl_;
};

}  // namespace cppworker::upstream
