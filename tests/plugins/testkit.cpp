// A plugin for the integration tests, written as a third party would with the C++ SDK. Each route
// exercises one part of the ABI: blocking routes on the pool, answers from other threads,
// streaming, cancellation, finalize joining the plugin's threads, and each way of forwarding to
// the model server (relay, whole-body and chunk transforms, chained fetches).
#include <cppworker/plugin.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <memory>
#include <chrono>
#include <condition_variable>
#include <iterator>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace json = boost::json;
using cppworker::Reply, cppworker::Request;
using namespace std::chrono_literals;

class TestKit : public cppworker::Plugin {
public:
    enum Route : uint32_t {
        sleep, rendezvous, stream, late, fail, drop, fifo, bounded, pair, relay, wrap, tee, chain, fifo_stream, flood,
        own, limited, timer, timer_blocking, answer_then_fail
    };
    static constexpr cppw_route routes[] = {
        cppworker::route(CPPW_METHOD_POST, "/sleep", {.blocking = true}),
        cppworker::route(CPPW_METHOD_POST, "/rendezvous", {.blocking = true}),
        cppworker::route(CPPW_METHOD_POST, "/stream"),
        cppworker::route(CPPW_METHOD_POST, "/late"),
        cppworker::route(CPPW_METHOD_POST, "/fail"),
        cppworker::route(CPPW_METHOD_POST, "/drop"),
        cppworker::route(CPPW_METHOD_POST, "/fifo", {.concurrency = CPPW_CONCURRENCY_FIFO, .blocking = true}),
        cppworker::route(CPPW_METHOD_POST, "/bounded", {.blocking = true, .max_queue_time = 1.0}),
        cppworker::route(CPPW_METHOD_POST, "/pair", {.concurrency = CPPW_CONCURRENCY_LIMIT, .limit = 2, .blocking = true}),
        cppworker::route(CPPW_METHOD_POST, "/relay"),
        cppworker::route(CPPW_METHOD_POST, "/wrap"),
        cppworker::route(CPPW_METHOD_POST, "/tee"),
        cppworker::route(CPPW_METHOD_POST, "/chain"),
        // A stream holds its FIFO slot for as long as it runs, past any request timeout.
        cppworker::route(CPPW_METHOD_POST, "/fifo_stream", {.concurrency = CPPW_CONCURRENCY_FIFO}),
        cppworker::route(CPPW_METHOD_POST, "/flood"),
        cppworker::route(CPPW_METHOD_POST, "/own"),
        // Answers from a thread of its own, as /late does, one request at a time without the pool.
        cppworker::route(CPPW_METHOD_POST, "/limited", {.concurrency = CPPW_CONCURRENCY_LIMIT, .limit = 1}),
        // Waits on the host's timers (ABI 1.4), from an I/O thread or from the blocking pool.
        cppworker::route(CPPW_METHOD_POST, "/timer"),
        cppworker::route(CPPW_METHOD_POST, "/timer_blocking", {.blocking = true}),
        // Answers, then throws: handle returns an error for a request it completed.
        cppworker::route(CPPW_METHOD_POST, "/answer_then_fail"),
    };
    static constexpr const char* route_names[] = {
        "sleep", "rendezvous", "stream", "late", "fail", "drop", "fifo", "bounded", "pair", "relay", "wrap", "tee",
        "chain", "fifo_stream", "flood", "own", "limited", "timer", "timer_blocking", "answer_then_fail",
    };
    static_assert(std::size(route_names) == std::size(routes));
    // A model server of sorts: the tests write these lines to MODEL_LOG and serve the health path.
    static constexpr const char* loaded_lines[] = {"MODEL LOADED", nullptr};
    static constexpr const char* error_lines[] = {"MODEL CRASHED", nullptr};
    static constexpr const char* info_lines[] = {"Downloading", nullptr};
    static constexpr cppw_readiness readiness =
        cppworker::make_readiness(late, loaded_lines, error_lines, info_lines, "/health", 2, 4);

    explicit TestKit(cppworker::Host host) : Plugin(host) {
        host.info("testkit up; greeting=" + host.config_or("TESTKIT_GREETING", "(none)"));
    }
    ~TestKit() override {
        threads_.clear();  // joins
        host().info("testkit finalized");
    }

    // The payload is parsed here once and kept for handle; `alive_` counts the copies that exist,
    // so a test sees every kept payload freed, handed over or released.
    double workload(const Request& r) override {
        Parsed parsed{json::parse(r.payload).as_object(), alive_};
        const auto* w = parsed.payload.if_contains("workload");
        const double workload = w ? w->to_number<double>() : 1.0;
        r.keep(std::move(parsed));
        return workload;
    }

    void cancel(cppw_request_id id) override {
        std::lock_guard lock(cancel_mutex_);
        ++cancels_;
        if (!cancelled_.insert(id).second) ++cancel_repeats_;
        if (completed_.contains(id)) ++cancels_after_completion_;
        if (const auto target = host().config("TESTKIT_CANCEL_POKE")) {
            host().fetch(cppworker::UpstreamRequest{CPPW_METHOD_POST, *target, "{}"}, [](cppworker::UpstreamAnswer) {});
        }
    }

    void metrics(cppworker::Metrics& m) override {
        std::lock_guard lock(cancel_mutex_);
        m.counter("testkit_cancels_total", "cancel hook calls", static_cast<double>(cancels_));
        m.counter("testkit_cancel_repeats_total", "cancel hook calls for a request cancelled before",
                  static_cast<double>(cancel_repeats_));
        m.counter("testkit_cancels_after_completion_total", "cancel hook calls for a request completed before",
                  static_cast<double>(cancels_after_completion_));
        m.gauge("testkit_kept_alive", "payloads kept by workload and not yet freed", static_cast<double>(alive_->load()));
        m.counter("testkit_kept_taken_total", "kept payloads handle received", static_cast<double>(taken_.load()));
        m.counter("testkit_timer_ok_total", "timer callbacks told CPPW_OK", static_cast<double>(timer_ok_.load()));
        m.counter("testkit_timer_cancelled_total", "timer callbacks told CPPW_CANCELLED",
                  static_cast<double>(timer_cancelled_.load()));
        m.counter("testkit_timer_inside_service_total", "timer callbacks that ran inside a host service call",
                  static_cast<double>(timer_inside_service_.load()));
        m.gauge("testkit_timer_jobs_alive", "requests waiting on timers whose state is not yet freed",
                static_cast<double>(timer_jobs_->load()));
        for (std::size_t i = 0; i < std::size(routes); ++i) {
            m.counter(std::string("testkit_handle_calls_") + route_names[i] + "_total", "handle calls on this route",
                      static_cast<double>(handled_[i].load()));
        }
    }

    // Benchmark requests answer after a few milliseconds; TESTKIT_BENCHMARK_FAILS makes them fail.
    bool benchmark_payload(uint32_t, cppworker::PayloadSink& sink) override {
        sink.json(host().config("TESTKIT_BENCHMARK_FAILS") ? R"({"fail": true})" : R"({"ms": 5, "workload": 10})");
        return true;
    }

    void handle(const Request& r, Reply reply) override {
        ++handled_[r.route_index];
        json::object p;
        if (auto* kept = r.kept<Parsed>()) {
            ++taken_;
            p = std::move(kept->payload);
        } else {
            p = json::parse(r.payload).as_object();
        }
        const auto number = [&](const char* key, int64_t fallback) {
            const auto* v = p.if_contains(key);
            return v ? v->to_number<int64_t>() : fallback;
        };
        switch (r.route_index) {
        case sleep: return do_sleep(std::move(reply), std::chrono::milliseconds(number("ms", 100)));
        case rendezvous: return do_rendezvous(std::move(reply), number("parties", 2), number("timeout_ms", 5000));
        case stream:
        case fifo_stream:
            return spawn([this, reply = std::move(reply), n = number("chunks", 3),
                          gap = std::chrono::milliseconds(number("interval_ms", 0))]() mutable {
                do_stream(std::move(reply), n, gap);
            });
        case late:
        case limited: {
            const auto* tag = p.if_contains("tag");
            std::string label = tag != nullptr && tag->is_string() ? std::string(tag->get_string()) : std::string();
            return spawn([this, reply = std::move(reply), ms = std::chrono::milliseconds(number("ms", 100)),
                          fail = p.contains("fail"), label = std::move(label)]() mutable {
                do_late(std::move(reply), ms, fail, label);
            });
        }
        case fail: throw std::runtime_error("testkit was asked to fail");
        case drop: return;  // the Reply dies unanswered: the SDK answers 500 for us
        case fifo: return do_fifo(std::move(reply), number("tag", -1), std::chrono::milliseconds(number("ms", 0)));
        case bounded:
        case pair: return do_sleep(std::move(reply), std::chrono::milliseconds(number("ms", 100)));
        case relay: {
            const std::string body = upstream_body(p);
            // "headers": {"name": "value", ...}, sent along as the plugin's own.
            std::vector<cppworker::Header> headers;
            if (const auto* h = p.if_contains("headers"); h != nullptr && h->is_object()) {
                for (const auto& [name, value] : h->get_object()) {
                    headers.push_back({name, value.is_string() ? std::string_view(value.get_string()) : ""});
                }
            }
            reply.forward(cppworker::UpstreamRequest{CPPW_METHOD_POST, string_at(p, "target"), body, {}, headers});
            return;
        }
        case wrap: {
            const std::string body = upstream_body(p);
            reply.transform(cppworker::UpstreamRequest{CPPW_METHOD_POST, string_at(p, "target"), body},
                            std::make_unique<Wrap>(), false);
            return;
        }
        case tee: {
            const std::string body = upstream_body(p);
            reply.transform(cppworker::UpstreamRequest{CPPW_METHOD_POST, string_at(p, "target"), body},
                            std::make_unique<Tee>(), true);
            return;
        }
        case chain: return do_chain(std::move(reply), string_at(p, "first"), string_at(p, "then"));
        case flood:
            return spawn([this, reply = std::move(reply), n = number("chunks", 16), bytes = number("bytes", 65536)]() mutable {
                do_flood(std::move(reply), n, static_cast<std::size_t>(bytes));
            });
        case timer:
        case timer_blocking: return do_timer(std::move(reply), p);
        case answer_then_fail:
            reply.json(200, R"({"answered": true})");
            host().info("is_cancelled after the answer: " + std::to_string(reply.cancelled() ? 1 : 0));
            throw std::runtime_error("failed after answering");
        case own: {
            // A forward of the plugin's own, belonging to no request, answered through the request.
            auto shared = std::make_shared<Reply>(std::move(reply));
            host().fetch(cppworker::UpstreamRequest{CPPW_METHOD_GET, string_at(p, "target"), {}},
                         [shared](cppworker::UpstreamAnswer a) {
                             if (!a.result.ok()) return (void)shared->fail(a.result);
                             shared->json(200, json::serialize(json::object{{"status", a.head.status}, {"body", a.body}}));
                         });
            return;
        }
        }
    }

private:
    // A payload kept from workload to handle, counted while any copy of it lives.
    struct Parsed {
        Parsed(json::object p, std::shared_ptr<std::atomic<int64_t>> a) : payload(std::move(p)), alive(std::move(a)) {
            ++*alive;
        }
        Parsed(const Parsed& o) : payload(o.payload), alive(o.alive) { ++*alive; }
        Parsed(Parsed&& o) noexcept : payload(std::move(o.payload)), alive(o.alive) { ++*alive; }
        Parsed& operator=(const Parsed&) = delete;
        ~Parsed() { --*alive; }
        json::object payload;
        std::shared_ptr<std::atomic<int64_t>> alive;
    };

    static std::string string_at(const json::object& p, const char* key) {
        const auto* v = p.if_contains(key);
        return v && v->is_string() ? std::string(v->as_string()) : std::string();
    }
    static std::string upstream_body(const json::object& p) {
        const auto* v = p.if_contains("body");
        return v ? json::serialize(*v) : std::string("{}");
    }

    // The whole upstream answer, described: what a plugin that rewrites answers sees.
    struct Wrap : cppworker::Transform {
        cppworker::UpstreamHead head_;
        void head(Reply&, const cppworker::UpstreamHead& h) override { head_ = h; }
        void data(Reply& reply, std::string_view body) override {
            reply.json(200, json::serialize(json::object{{"upstream_status", head_.status},
                                                         {"streaming", head_.streaming},
                                                         {"content_type", head_.content_type},
                                                         {"body", body}}));
        }
    };

    // Passes a stream on piece by piece and says at the end how many pieces it saw.
    struct Tee : cppworker::Transform {
        int pieces_ = 0;
        void head(Reply& reply, const cppworker::UpstreamHead& h) override {
            reply.begin_stream(h.status, h.content_type.empty() ? "application/octet-stream" : h.content_type);
        }
        void data(Reply& reply, std::string_view piece) override {
            ++pieces_;
            reply.write(piece);
        }
        void done(Reply& reply, const cppworker::UpstreamResult& result) override {
            if (!result.ok()) return cppworker::Transform::done(reply, result);
            reply.write("data: {\"tee_pieces\": " + std::to_string(pieces_) + "}\n\n");
            reply.end();
        }
    };

    // Two fetches one after the other, the second started from the first's callback.
    void do_chain(Reply reply, std::string first, std::string then) {
        auto shared = std::make_shared<Reply>(std::move(reply));
        shared->fetch(cppworker::UpstreamRequest{CPPW_METHOD_GET, first, {}},
                      [shared, then](cppworker::UpstreamAnswer a) {
                          const unsigned first_status = a.head.status;
                          shared->fetch(cppworker::UpstreamRequest{CPPW_METHOD_GET, then, {}},
                                        [shared, first_status](cppworker::UpstreamAnswer b) {
                                            if (!b.result.ok()) {
                                                shared->fail(b.result);
                                                return;
                                            }
                                            shared->json(200, json::serialize(json::object{
                                                                  {"first", first_status},
                                                                  {"then", b.head.status},
                                                                  {"then_body", b.body}}));
                                        });
                      });
    }

    template <class F>
    void spawn(F&& f) {
        std::lock_guard lock(mutex_);
        threads_.emplace_back(std::forward<F>(f));
    }

    void do_sleep(Reply reply, std::chrono::milliseconds ms) {
        host().info("sleep started");
        const auto until = std::chrono::steady_clock::now() + ms;
        while (std::chrono::steady_clock::now() < until && !reply.cancelled()) std::this_thread::sleep_for(5ms);
        host().info("sleep ended");
        reply.json(200, json::serialize(json::object{{"slept_ms", ms.count()}}));
    }

    // Says in which order FIFO requests reached the plugin, so a test can compare it with the
    // order they were sent in.
    void do_fifo(Reply reply, int64_t tag, std::chrono::milliseconds ms) {
        const int64_t started = fifo_started_++;
        host().info("fifo request " + std::to_string(tag) + " started");
        std::this_thread::sleep_for(ms);
        reply.json(200, json::serialize(json::object{{"tag", tag}, {"started", started}}));
    }

    void do_rendezvous(Reply reply, int64_t parties, int64_t timeout_ms) {
        std::unique_lock lock(mutex_);
        ++arrived_;
        met_.notify_all();
        const bool all = met_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return arrived_ >= parties; });
        lock.unlock();
        if (all) {
            reply.json(200, json::serialize(json::object{{"met", parties}}));
        } else {
            reply.error(500, "rendezvous timed out: not enough requests ran at once");
        }
    }

    void do_stream(Reply reply, int64_t chunks, std::chrono::milliseconds gap) {
        reply.begin_stream(200, "text/event-stream", {{"X-Testkit", "stream"}});
        for (int64_t i = 0; i < chunks; ++i) {
            if (i > 0) std::this_thread::sleep_for(gap);
            if (reply.write("data: {\"index\": " + std::to_string(i) + "}\n\n") == CPPW_CANCELLED) {
                host().info("stream cancelled by the client");
                reply.end(CPPW_CANCELLED);
                return;
            }
        }
        reply.end();
    }

    // Streams as fast as the client takes it and no faster, as a well-behaved producer should:
    // on CPPW_BACKPRESSURE it waits for the queue to drain. The log says when a wait ran out,
    // so a test can see the producer held by a client that does not read.
    void do_flood(Reply reply, int64_t chunks, std::size_t bytes) {
        reply.begin_stream(200, "application/octet-stream");
        int64_t waits = 0;
        for (int64_t i = 0; i < chunks; ++i) {
            // Each chunk starts with its index, so the client can check nothing was lost or reordered.
            std::string chunk = std::to_string(i);
            chunk.insert(0, 12 - std::min<std::size_t>(12, chunk.size()), '0');
            chunk.resize(std::max<std::size_t>(bytes, 12), '.');
            cppw_status st = reply.write(chunk);
            bool reported = false;
            while (st == CPPW_BACKPRESSURE) {
                ++waits;
                st = reply.wait_writable(100ms);
                if (st == CPPW_BACKPRESSURE && !reported) {
                    reported = true;
                    host().info("flood: still waiting for the client at chunk " + std::to_string(i));
                }
            }
            if (st == CPPW_CANCELLED) {
                host().info("flood: cancelled at chunk " + std::to_string(i));
                reply.end(CPPW_CANCELLED);
                return;
            }
        }
        reply.end();
        host().info("flood: done, " + std::to_string(chunks) + " chunks after " + std::to_string(waits) +
                    " wait(s)");
    }

    // A request that waits on the host's timers. While the plugin calls the host (`calling_host`),
    // a timer callback must not run on that thread: the host only ever calls back from its loop.
    struct TimerJob {
        TimerJob(Reply r, std::shared_ptr<std::atomic<int64_t>> a) : reply(std::move(r)), alive(std::move(a)) { ++*alive; }
        TimerJob(const TimerJob&) = delete;
        TimerJob& operator=(const TimerJob&) = delete;
        ~TimerJob() { --*alive; }
        Reply reply;
        std::shared_ptr<std::atomic<int64_t>> alive;
        std::thread::id handled_on = std::this_thread::get_id();
        int64_t rounds_left = 1;
    };
    static inline thread_local bool calling_host = false;
    struct CallingHost {
        CallingHost() { calling_host = true; }
        ~CallingHost() { calling_host = false; }
        CallingHost(const CallingHost&) = delete;
        CallingHost& operator=(const CallingHost&) = delete;
    };

    // {"ms": wait, "rounds": timers one after the other, then the answer}; "complete_after_ms": a
    // second, shorter timer completes the request while the first waits, which must never call
    // back; "flood": the stream begun is overrun from inside stream_write, which gives the request
    // up inside that host call.
    void do_timer(Reply reply, const json::object& p) {
        const auto number = [&](const char* key, int64_t fallback) {
            const auto* v = p.if_contains(key);
            return v ? v->to_number<int64_t>() : fallback;
        };
        auto job = std::make_shared<TimerJob>(std::move(reply), timer_jobs_);
        job->rounds_left = number("rounds", 1);
        const auto ms = std::chrono::milliseconds(number("ms", 10));
        arm(job, ms);
        if (const auto first = number("complete_after_ms", -1); first >= 0) {
            CallingHost calling;
            job->reply.after(std::chrono::milliseconds(first), [job](cppw_status) {
                job->reply.json(200, R"({"completed": "before the long timer"})");
            });
        }
        if (p.contains("flood")) {
            CallingHost calling;
            job->reply.begin_stream(200, "text/plain");
            const std::string chunk(64 * 1024, 'x');
            cppw_status st = CPPW_OK;
            while (st == CPPW_OK || st == CPPW_BACKPRESSURE) st = job->reply.write(chunk);
        }
    }

    void arm(const std::shared_ptr<TimerJob>& job, std::chrono::milliseconds ms) {
        CallingHost calling;
        const auto st = job->reply.after(ms, [this, job, ms](cppw_status status) { on_timer(job, status, ms); });
        if (st != CPPW_OK) job->reply.error(500, "timer_start refused: status " + std::to_string(static_cast<int>(st)));
    }

    void on_timer(const std::shared_ptr<TimerJob>& job, cppw_status status, std::chrono::milliseconds ms) {
        if (calling_host) ++timer_inside_service_;
        if (status == CPPW_CANCELLED) {
            ++timer_cancelled_;
            host().info("timer of request " + std::to_string(job->reply.id()) + ": cancelled");
            job->reply.fail(cppworker::UpstreamResult{CPPW_CANCELLED, "given up"});
            return;
        }
        ++timer_ok_;
        if (--job->rounds_left > 0) return arm(job, ms);
        const bool same_thread = job->handled_on == std::this_thread::get_id();
        job->reply.json(200, json::serialize(json::object{{"timer", "ok"}, {"same_thread", same_thread}}));
    }

    // The payload's "tag", when it has one, goes in the log lines: the benchmark's requests take
    // this route too, so a test can tell its own request's lines from theirs.
    void do_late(Reply reply, std::chrono::milliseconds ms, bool fail, const std::string& label) {
        const std::string who = "late request " + std::to_string(reply.id()) + (label.empty() ? "" : " (" + label + ")");
        const auto until = std::chrono::steady_clock::now() + ms;
        while (std::chrono::steady_clock::now() < until) {
            if (reply.cancelled()) {
                host().info(who + " seen cancelled");
                break;
            }
            std::this_thread::sleep_for(5ms);
        }
        const auto status = fail ? reply.error(500, "asked to fail") : reply.json(200, R"({"late": true})");
        if (status == CPPW_OK) {
            std::lock_guard lock(cancel_mutex_);
            completed_.insert(reply.id());
        }
        host().info(who + " answered with status " + std::to_string(static_cast<int>(status)));
    }

    std::mutex mutex_;
    std::condition_variable met_;
    int64_t arrived_ = 0;
    std::atomic<int64_t> fifo_started_{0};
    const std::shared_ptr<std::atomic<int64_t>> alive_ = std::make_shared<std::atomic<int64_t>>(0);
    std::atomic<int64_t> taken_{0};
    std::array<std::atomic<int64_t>, std::size(routes)> handled_{};
    std::atomic<int64_t> timer_ok_{0}, timer_cancelled_{0}, timer_inside_service_{0};
    const std::shared_ptr<std::atomic<int64_t>> timer_jobs_ = std::make_shared<std::atomic<int64_t>>(0);
    std::mutex cancel_mutex_;
    std::set<cppw_request_id> cancelled_, completed_;
    int64_t cancels_ = 0, cancel_repeats_ = 0, cancels_after_completion_ = 0;
    std::vector<std::jthread> threads_;
};

CPPWORKER_PLUGIN(TestKit, "testkit", "1.0.0")
