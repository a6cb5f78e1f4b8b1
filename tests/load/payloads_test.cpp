#include "cli.hpp"
#include "payloads.hpp"

#include <catch2/catch.hpp>

#include <boost/json.hpp>

using namespace cppworker::load;

TEST_CASE("generated payloads cost what the backend's plugin charges") {
    const auto hello = generate({Backend::hello_world, 4, 0, false}, 3);
    CHECK(hello.path == "/generate");
    CHECK(hello.cost == static_cast<double>(boost::json::parse(hello.body).at("prompt").as_string().size()));
    const auto tgi = generate({Backend::tgi, 8, 50, true}, 0);
    CHECK(tgi.path == "/generate_stream");
    CHECK(tgi.stream);
    CHECK(tgi.cost == 50);  // tgi: max_new_tokens
    const auto chat = generate({Backend::openai, 8, 20, false}, 0);
    CHECK(chat.path == "/v1/chat/completions");
    // openai: the prompt's bytes / 4, rounded up, plus max_tokens.
    const auto content = boost::json::parse(chat.body).at("messages").at(0).at("content").as_string();
    CHECK(chat.cost == static_cast<double>((content.size() + 3) / 4 + 20));
    CHECK(generate({Backend::hello_world, 4, 0, false}, 1).body != hello.body);
}

TEST_CASE("a payload file: bare payloads or envelopes with path, cost and stream, errors naming the line") {
    auto read = read_payloads("{\"prompt\": \"abc\"}\n\n{\"payload\": {\"ms\": 5}, \"path\": \"/work\", \"cost\": 1}\n"
                              "{\"prompt\": \"x\", \"stream\": true}\n",
                              FileOptions{Backend::hello_world, "/generate", std::nullopt});
    REQUIRE(std::holds_alternative<std::vector<Payload>>(read));
    const auto& p = std::get<std::vector<Payload>>(read);
    REQUIRE(p.size() == 3);
    CHECK(p[0].cost == 3);
    CHECK(p[1].path == "/work");
    CHECK(p[1].body == R"({"ms":5})");
    CHECK(p[1].cost == 1);
    CHECK(p[2].stream);

    auto error = [](std::string_view text, FileOptions o) {
        auto r = read_payloads(text, o);
        REQUIRE(std::holds_alternative<std::string>(r));
        return std::get<std::string>(r);
    };
    const FileOptions tgi{Backend::tgi, "/generate", std::nullopt};
    CHECK(error("{\"inputs\": \"a\"}\nnot json\n", tgi) == "line 2: not a JSON object");
    CHECK(error("{\"inputs\": \"a\", \"parameters\": {\"max_new_tokens\": 0}}", tgi).starts_with("line 1: the worker would refuse it (422)"));
    CHECK(error("{\"payload\": 3}", tgi) == "line 1: \"payload\" must be an object");
    CHECK(error("{\"a\": 1}", FileOptions{Backend::other, "", std::nullopt}).starts_with("line 1: no route"));
    CHECK(error("\n\n", tgi) == "no payloads: every line is empty");
}

TEST_CASE("the command line: one target, one load shape, errors naming the flags") {
    auto parse = [](std::vector<const char*> args) {
        args.insert(args.begin(), "cppworker-load");
        return parse_cli(static_cast<int>(args.size()), args.data());
    };
    auto error = [&](std::vector<const char*> args) {
        auto r = parse(std::move(args));
        REQUIRE(std::holds_alternative<CliExit>(r));
        CHECK(std::get<CliExit>(r).code == 2);
        return std::get<CliExit>(r).message;
    };
    auto ok = parse({"--engine", "http://127.0.0.1:8080", "--endpoint", "e", "--api-key", "k", "--rate", "5",
                     "--duration", "2s", "--arrivals", "poisson", "--slo-latency-ms", "250", "--max-error-rate", "0.01"});
    REQUIRE(std::holds_alternative<Cli>(ok));
    const auto& c = std::get<Cli>(ok);
    CHECK(c.seconds == 2);
    CHECK(c.arrivals == Arrivals::poisson);
    CHECK(c.gates.slo.latency == Approx(0.25));
    CHECK(c.gates.max_error_rate == Approx(0.01));
    bool key_hidden = false;
    for (const auto& [name, value] : c.settings) key_hidden |= name == "--api-key" && value == "(given)";
    CHECK(key_hidden);

    CHECK(error({"--rate", "5", "--duration", "2s"}).starts_with("give either --engine"));
    CHECK(error({"--worker", "http://x:1", "--engine", "http://y:2", "--rate", "1", "--duration", "1s"}).starts_with("give either"));
    CHECK(error({"--engine", "http://y:2", "--rate", "1", "--duration", "1s"}).starts_with("--engine needs --endpoint"));
    CHECK(error({"--worker", "http://x:1", "--rate", "1"}) == "--concurrency and --rate need --duration\n");
    CHECK(error({"--worker", "http://x:1", "--rate", "1", "--concurrency", "2", "--duration", "1s"}).starts_with("give one of"));
    CHECK(error({"--worker", "http://x:1", "--rate", "1", "--duration", "soon"}).starts_with("--duration: 'soon'"));
    CHECK(error({"--worker", "http://x:1", "--profile", "p", "--duration", "1s"}).starts_with("--duration goes with"));
    CHECK(error({"--worker", "http://x:1", "--rate", "1", "--duration", "1s", "--arrivals", "bursty"}).starts_with("--arrivals"));
    CHECK(error({"--worker", "http://x:1", "--rate", "1", "--duration", "1s", "--backend", "vllm"}).starts_with("--backend"));
    CHECK(error({"--worker", "http://x:1", "--rate", "-1", "--duration", "1s"}).find("--rate") != std::string::npos);
}

TEST_CASE("URLs: http only, with a port and an optional prefix") {
    const auto u = parse_url("http://127.0.0.1:8080/base/");
    REQUIRE(u);
    CHECK(u->host == "127.0.0.1");
    CHECK(u->port == "8080");
    CHECK(u->prefix == "/base");
    CHECK(parse_url("http://localhost")->port == "80");
    CHECK_FALSE(parse_url("https://x:1"));
    CHECK_FALSE(parse_url("http://x:0"));
    CHECK_FALSE(parse_url("http://:80"));
}
