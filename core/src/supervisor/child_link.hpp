#pragma once

#include "supervisor/messages.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace cppworker::supervisor {

// The names under which the master tells a worker it is supervised.
inline constexpr const char* link_fd_variable = "CPPWORKER_SUPERVISOR_FD";
inline constexpr const char* listen_fd_variable = "CPPWORKER_LISTEN_FD";
inline constexpr const char* reload_variable = "CPPWORKER_RELOAD";
inline constexpr const char* previous_crash_variable = "CPPWORKER_PREVIOUS_CRASH";

// A supervised worker's side of the master's socket pair (supervisor/messages.hpp), with what the
// master handed it at start: the listening socket, whether it replaces a running worker (reload),
// and how the worker before it crashed, if it did.
class ChildLink {
public:
    // From the environment the master sets; nothing when this process is not supervised. The
    // variables are removed and both sockets marked close-on-exec, so that processes the plugin
    // starts inherit neither.
    static std::unique_ptr<ChildLink> from_environment();
    ~ChildLink();
    ChildLink(const ChildLink&) = delete;
    ChildLink& operator=(const ChildLink&) = delete;

    int listen_fd() const { return listen_fd_; }
    bool reload() const { return reload_; }
    const std::string& previous_crash() const { return previous_crash_; }

    // Reads the master's lines on a thread of its own. `on_token` runs there when the reporting
    // token arrives; `on_master_gone` when the master closed the link (it died: time to stop).
    void start(std::function<void()> on_token, std::function<void()> on_master_gone);
    // From now on neither callback runs (what they post to is going away); the token is still
    // noted for wait_for_token.
    void drop_callbacks();
    void send(const Message& m);
    bool has_token() const;
    // The counters that came with the token, once: to whoever takes them first.
    std::optional<Counters> take_carry();
    // Waits up to `limit` for the token; false when it did not come (or the master is gone).
    bool wait_for_token(std::chrono::milliseconds limit);

private:
    struct Shared;
    ChildLink(int link_fd, int listen_fd, bool reload, std::string previous_crash);

    int listen_fd_;
    bool reload_;
    std::string previous_crash_;
    std::shared_ptr<Shared> shared_;
};

}  // namespace cppworker::supervisor
