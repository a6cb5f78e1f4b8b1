// The smallest useful SDK plugins, built against installed headers only: one answers the payload it
// was given, the other reads a field of it through the host (no JSON library, no Boost).
#include <cppworker/plugin.hpp>

#include <string>

class Echo : public cppworker::Plugin {
public:
    static constexpr cppw_route routes[] = {
        cppworker::route(CPPW_METHOD_POST, "/echo"),
        cppworker::route(CPPW_METHOD_POST, "/greet"),
    };
    using Plugin::Plugin;

    // A payload without "name" as a string is refused here, with 422 and the reader's message.
    double workload(const cppworker::Request& request) override {
        if (request.route_index == 1) request.keep(request.json("/name").as_string());
        return 1.0;
    }

    void handle(const cppworker::Request& request, cppworker::Reply reply) override {
        if (request.route_index == 0) {
            reply.json(200, request.payload);
            return;
        }
        const auto* name = request.kept<std::string>();
        reply.json(200, "{\"greeting\": " + cppworker::json_quote("hello, " + (name ? *name : std::string("you"))) + "}");
    }
};

CPPWORKER_PLUGIN(Echo, "echo", "1.0.0")
