// Zoo: an SDK plugin whose handle begins a stream, writes to it, then throws. The SDK turns the
// exception into a refusal; the stream already begun must be cut short, not left open.
#include <cppworker/plugin.hpp>

#include <stdexcept>

class StreamThenThrows : public cppworker::Plugin {
public:
    static constexpr cppw_route routes[] = {cppworker::route(CPPW_METHOD_POST, "/stream")};
    using Plugin::Plugin;

    void handle(const cppworker::Request&, cppworker::Reply reply) override {
        reply.begin_stream(200, "text/plain");
        reply.write("first chunk\n");
        throw std::runtime_error("the model went away mid-stream");
    }
};

CPPWORKER_PLUGIN(StreamThenThrows, "zoo_stream_then_throws", "1.0.0")
