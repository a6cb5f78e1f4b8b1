// Answers the payload it was given: the smallest useful SDK plugin, built against installed headers.
#include <cppworker/plugin.hpp>

class Echo : public cppworker::Plugin {
public:
    static constexpr cppw_route routes[] = {cppworker::route(CPPW_METHOD_POST, "/echo")};
    using Plugin::Plugin;
    void handle(const cppworker::Request& request, cppworker::Reply reply) override {
        reply.json(200, request.payload);
    }
};

CPPWORKER_PLUGIN(Echo, "echo", "1.0.0")
