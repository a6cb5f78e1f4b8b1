#pragma once

#include "http1/reply.hpp"
#include "metrics/route_metrics.hpp"
#include "requests/pending_request.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <string_view>
#include <vector>

namespace cppworker::pipeline {

// Part of a streamed answer, ready to go out in one write.
struct StreamPiece {
    const requests::Answer* head = nullptr;  // the stream's status and fields, in the first piece only
    std::vector<std::string_view> chunks;    // data, in order; never an empty one
    bool end = false;                        // the stream is complete after these
};

// Where the pipeline sends a request's answer and learns that its client left: a connection
// (core/src/http), or the worker itself for the requests it makes (the benchmark).
class ClientPort {
public:
    virtual ~ClientPort() = default;

    // A whole answer; false when the client is gone. `close`: the connection ends after it.
    virtual boost::asio::awaitable<bool> write_whole(http1::Reply& reply, bool close) = 0;
    // The next piece of a streamed answer; false when the client is gone.
    virtual boost::asio::awaitable<bool> write_stream(const StreamPiece& piece) = 0;
    // Waits until `wake` is woken or expires, watching the client meanwhile; false when it left.
    virtual boost::asio::awaitable<bool> wait(boost::asio::steady_timer& wake) = 0;
    // Who the client is, for the log: its address and port.
    virtual std::string_view peer() const = 0;
    // Ends at once the write to this client that is under way, called on the connection's loop:
    // a cancelled request's answer must not wait on a client that reads nothing.
    virtual void interrupt_write() = 0;

    // The status of the answer written last, for the route metrics; client_closed until then.
    unsigned written_status = metrics::RouteMetrics::client_closed;
};

}  // namespace cppworker::pipeline
