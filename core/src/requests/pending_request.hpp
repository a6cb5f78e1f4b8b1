#pragma once

#include <cppworker/plugin.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace cppworker::requests {

struct Answer {
    uint16_t status = 200;
    std::string content_type;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
};

// What the plugin did with a request, in order, for the connection to send.
struct Event {
    enum class Kind { respond, stream_begin, stream_data, stream_end, refused };
    Kind kind;
    Answer answer;                   // respond, stream_begin (body unused)
    std::string data;                // stream_data; refused: the plugin's message
    cppw_status end_status = CPPW_OK;  // stream_end
};

// One accepted request as both sides see it: the plugin pushes answers from any thread, the
// connection takes them on its own executor. The notifier tells the connection to look.
class PendingRequest {
public:
    PendingRequest(cppw_request_id id, std::size_t high_water) : id_(id), high_water_(high_water) {}

    cppw_request_id id() const { return id_; }

    // Plugin side. Each returns what the host service returns; `completed` is set when this call
    // completed the request (the registry then forgets it).
    cppw_status respond(Answer answer, bool& completed);
    cppw_status stream_begin(Answer head);
    cppw_status stream_write(std::string chunk);
    cppw_status stream_wait(std::chrono::milliseconds timeout);
    cppw_status stream_end(cppw_status status, bool& completed);
    bool cancelled() const;
    // `handle` did not accept the request; ignored when the plugin answered anyway.
    void refuse(std::string message);

    // Connection side.
    void set_notifier(std::function<void()> notify);
    std::vector<Event> take_events();
    void sent(std::size_t bytes);  // stream bytes handed to the socket
    void cancel();                 // the client left, its session closed, or the host gave up

private:
    enum class State { open, streaming, done };
    cppw_status push(Event e, std::size_t stream_bytes);

    const cppw_request_id id_;
    const std::size_t high_water_;
    mutable std::mutex mutex_;
    std::condition_variable drained_;
    State state_ = State::open;
    bool cancelled_ = false;
    std::size_t queued_bytes_ = 0;
    std::deque<Event> events_;
    std::function<void()> notify_;
};

}  // namespace cppworker::requests
