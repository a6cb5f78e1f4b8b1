// The plugin of the reload tests, built twice from this file with a different RELOADABLE_VERSION,
// so that a test can replace one .so with the other and see which one answers. Answers are given
// late from the plugin's own thread, so that hundreds of requests are in flight at once without
// hundreds of threads; a stream runs for as long as the test asks.
#include <cppworker/plugin.hpp>

#include <boost/json.hpp>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#ifndef RELOADABLE_VERSION
#error "RELOADABLE_VERSION must be defined"
#endif

namespace json = boost::json;
using cppworker::Reply, cppworker::Request;
using Clock = std::chrono::steady_clock;

class Reloadable : public cppworker::Plugin {
public:
    enum Route : uint32_t { work, stream };
    static constexpr cppw_route routes[] = {
        cppworker::route(CPPW_METHOD_POST, "/work"),
        cppworker::route(CPPW_METHOD_POST, "/stream"),
    };
    // Benchmarked, so that a reload shows it reuses the cached result.
    static constexpr cppw_readiness readiness = cppworker::make_readiness(work, nullptr, nullptr, nullptr, nullptr, 1, 2);

    explicit Reloadable(cppworker::Host host) : Plugin(host), delayer_([this](std::stop_token stop) { deliver(stop); }) {
        host.info("reloadable " RELOADABLE_VERSION " up");
    }
    ~Reloadable() override {
        delayer_.request_stop();
        due_changed_.notify_all();
        delayer_.join();
        streams_.clear();  // joins
    }

    // One unit a request, so that the reported sums count requests.
    double workload(const Request&) override { return 1.0; }

    bool benchmark_payload(uint32_t, cppworker::PayloadSink& sink) override {
        sink.json(R"({"ms": 1})");
        return true;
    }

    void handle(const Request& r, Reply reply) override {
        const auto p = json::parse(r.payload).as_object();
        const auto number = [&](const char* key, int64_t fallback) {
            const auto* v = p.if_contains(key);
            return v ? v->to_number<int64_t>() : fallback;
        };
        if (r.route_index == work) {
            std::lock_guard lock(mutex_);
            due_.emplace(Clock::now() + std::chrono::milliseconds(number("ms", 0)), std::move(reply));
            due_changed_.notify_all();
            return;
        }
        host().info("reloadable " RELOADABLE_VERSION ": stream started");
        std::lock_guard lock(mutex_);
        streams_.emplace_back([reply = std::move(reply), chunks = number("chunks", 10),
                               gap = std::chrono::milliseconds(number("interval_ms", 100))]() mutable {
            reply.begin_stream(200, "text/plain");
            for (int64_t i = 0; i < chunks; ++i) {
                if (i > 0) std::this_thread::sleep_for(gap);
                if (reply.write(std::to_string(i) + "\n") == CPPW_CANCELLED) return void(reply.end(CPPW_CANCELLED));
            }
            reply.end();
        });
    }

private:
    void deliver(std::stop_token stop) {
        std::unique_lock lock(mutex_);
        while (!stop.stop_requested()) {
            if (due_.empty()) {
                due_changed_.wait(lock);
                continue;
            }
            if (due_changed_.wait_until(lock, due_.begin()->first) == std::cv_status::no_timeout) continue;
            std::vector<Reply> ready;
            while (!due_.empty() && due_.begin()->first <= Clock::now()) {
                ready.push_back(std::move(due_.begin()->second));
                due_.erase(due_.begin());
            }
            lock.unlock();
            for (auto& reply : ready) reply.json(200, R"({"version": ")" RELOADABLE_VERSION R"("})");
            lock.lock();
        }
    }

    std::mutex mutex_;
    std::condition_variable due_changed_;
    std::multimap<Clock::time_point, Reply> due_;
    std::vector<std::jthread> streams_;
    std::jthread delayer_;
};

CPPWORKER_PLUGIN(Reloadable, "reloadable", RELOADABLE_VERSION)
