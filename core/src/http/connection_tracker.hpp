#pragma once

#include "logging/repeated_failure.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

namespace cppworker::http {

// The worker's client connections: counted by guards, capped at --max-connections, and ended by
// the drain. Thread-safe.
class ConnectionTracker {
public:
    // What the drain asks of an open connection, posted to the connection's own loop: at its
    // start, to close if idle; at its deadline, to cancel whatever it waits on.
    enum class DrainStep { begin, deadline };
    using Control = std::function<void(DrainStep)>;

    // An accepted connection whose coroutine has not started yet: the drain waits for it too,
    // since its client's request is on the way.
    class Ticket {
    public:
        explicit Ticket(ConnectionTracker& tracker);
        Ticket(Ticket&& other) noexcept;
        Ticket& operator=(Ticket&&) = delete;
        ~Ticket();

    private:
        friend class ConnectionTracker;
        ConnectionTracker* tracker_;
    };

    // An open connection, counted until the guard goes.
    class Guard {
    public:
        Guard(ConnectionTracker& tracker, uint64_t id) : tracker_(&tracker), id_(id) {}
        Guard(Guard&& other) noexcept;
        Guard& operator=(Guard&&) = delete;
        ~Guard();

    private:
        ConnectionTracker* tracker_;
        uint64_t id_;
    };

    explicit ConnectionTracker(std::size_t max_connections) : max_connections_(max_connections) {}

    Ticket accepted() { return Ticket(*this); }
    // The connection's guard, or nothing when --max-connections are open already (then it is
    // counted as refused, and logged at most once per 10 s). Uses the ticket up either way.
    std::optional<Guard> open(Ticket ticket, Control control);

    std::size_t open_count() const;
    uint64_t refused() const { return refused_.load(); }
    bool draining() const { return draining_.load(); }

    // From now on `on_drained` runs (once) when nothing is open or about to be; idle connections
    // are closed. Returns how many connections were open; nothing when the drain had begun already.
    std::optional<std::size_t> begin_drain(std::function<void()> on_drained);
    // Runs on_drained if the drain is done: for accepts that completed before the drain began,
    // whose connections open after it.
    void check_drained();
    // The drain deadline: every open connection's I/O is cancelled. Returns how many were open.
    std::size_t cancel_all();

private:
    void closed(uint64_t id);
    void unopened_gone();
    // With mutex_ held; returns what to run once it is released.
    std::function<void()> take_on_drained_locked();
    // With mutex_ held: a copy of every open connection's control, to call once it is released.
    std::vector<Control> controls_locked() const;

    const std::size_t max_connections_;
    mutable std::mutex mutex_;
    std::map<uint64_t, Control> open_;
    uint64_t next_id_ = 0;
    std::size_t unopened_ = 0;
    std::atomic<bool> draining_{false};
    std::function<void()> on_drained_;
    std::atomic<uint64_t> refused_{0};
    logging::RepeatedFailure refused_log_{std::chrono::seconds(10)};
};

}  // namespace cppworker::http
