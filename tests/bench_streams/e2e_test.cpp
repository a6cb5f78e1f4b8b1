// The stand-in and the client together, directly: every stream whole and every event counted
// (no latency assertions: the machine may be busy).
#include <catch2/catch.hpp>

#include <boost/json.hpp>
#include <boost/process/args.hpp>
#include <boost/process/child.hpp>
#include <boost/process/exe.hpp>
#include <boost/process/io.hpp>
#include <boost/process/pipe.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

namespace bp = boost::process;
namespace json = boost::json;

TEST_CASE("streams: 20 streams of 5 events through the client, all whole and every event counted",
          "[bench_streams]") {
    const auto dir = std::filesystem::temp_directory_path() / ("bench-streams-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto port_file = dir / "port";
    bp::child server(bp::exe = STREAM_SERVER_BINARY,
                     bp::args = {"--port", "0", "--port-file", port_file.string(), "--events", "5", "--interval-ms", "20"},
                     bp::std_in < bp::null);
    for (int i = 0; i < 500 && !std::filesystem::exists(port_file); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    REQUIRE(std::filesystem::exists(port_file));
    std::string port;
    std::ifstream(port_file) >> port;

    bp::ipstream out;
    bp::child client(bp::exe = STREAMS_CLIENT_BINARY,
                     bp::args = {"--port", port, "--streams", "20", "--events", "5", "--timeout", "30"},
                     bp::std_in < bp::null, bp::std_out > out);
    std::string line;
    std::getline(out, line);
    client.wait();
    server.terminate();
    std::filesystem::remove_all(dir);
    INFO(line);
    REQUIRE(client.exit_code() == 0);
    const auto r = json::parse(line).as_object();
    CHECK(r.at("whole").to_number<int>() == 20);
    CHECK(r.at("errors").to_number<int>() == 0);
    CHECK(r.at("events").to_number<int>() == 100);
    CHECK(r.at("events_expected").to_number<int>() == 100);
    CHECK(r.at("lateness_ms").at("count").to_number<int>() == 100);
    CHECK(r.at("ttft_ms").at("count").to_number<int>() == 20);
    // Those due once all 20 were open: usually most, none on a machine slow enough to take 80 ms.
    CHECK(r.at("steady_lateness_ms").at("count").to_number<int>() <= 100);
    const auto peak = r.at("peak_streaming").to_number<int>();
    CHECK(peak >= 1);
    CHECK(peak <= 20);
}
