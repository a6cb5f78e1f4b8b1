#include "supervisor/master.hpp"

#include "autoscaler/startup_beacon.hpp"
#include "logging/error_text.hpp"
#include "os/exit_description.hpp"
#include "os/files.hpp"
#include "supervisor/child_link.hpp"
#include "supervisor/crash_policy.hpp"
#include "supervisor/messages.hpp"
#include "supervisor/process_title.hpp"
#include "supervisor/spawn.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <map>
#include <optional>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace cppworker::supervisor {
namespace {
namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;

struct Child {
    pid_t pid = 0;
    bool reload = false;    // started by SIGHUP, to replace the serving one
    int reload_number = 0;  // which reload, for the log
    int generation = 0;     // in its title (process_title.hpp)
    bool ready = false;     // said "ready": accepting
    bool retiring = false;  // asked to stop after a reload
    std::unique_ptr<asio::posix::stream_descriptor> link;
    std::string buffer;
};

class Master {
public:
    Master(const config::Config& cfg, int argc, char** argv)
        : cfg_(cfg), args_(argv, argv + argc), name_(process_name()) {}

    int run() {
        ::signal(SIGPIPE, SIG_IGN);
        signals_.add(SIGCHLD);
        try {
            const tcp::endpoint endpoint(asio::ip::make_address(cfg_.listen_address), cfg_.port);
            listener_.open(endpoint.protocol());
            listener_.set_option(tcp::acceptor::reuse_address(true));
            listener_.bind(endpoint);
            listener_.listen(asio::socket_base::max_listen_connections);
            port_ = listener_.local_endpoint().port();
        } catch (const std::exception& e) {
            spdlog::critical("cannot start: {}", logging::error_text(e));
            autoscaler::report_startup_error(cfg_, "Worker Server failed to launch: " + logging::error_text(e));
            return 1;
        }
        spdlog::info("supervisor: pid {} holds {}:{}; workers are its children", ::getpid(), cfg_.listen_address, port_);
        wait_signals();
        start_worker(false, "", 0);
        io_.run();
        if (pid_file_) {
            std::error_code ec;
            std::filesystem::remove(*pid_file_, ec);
        }
        spdlog::info("supervisor: bye (exit code {})", exit_code_);
        return exit_code_;
    }

private:
    void wait_signals() {
        signals_.async_wait([this](boost::system::error_code ec, int sig) {
            if (ec) return;
            if (sig == SIGCHLD) {
                reap();
            } else if (sig == SIGHUP) {
                reload();
            } else {
                stop(sig);
            }
            wait_signals();
        });
    }

    // `generation`: see process_title.hpp.
    void start_worker(bool reload, const std::string& previous_crash, int generation) {
        int pair[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
            spdlog::critical("supervisor: socketpair failed: {}", std::strerror(errno));
            return fail(1);
        }
        const int listen_fd = listener_.native_handle();
        const auto env = worker_environment(environ, pair[1], listen_fd, reload, previous_crash);
        auto args = args_;
        args.front() = worker_title(name_, generation);
        pid_t pid = 0;
        try {
            pid = spawn_self(args, env, {pair[1], listen_fd});
        } catch (const std::exception& e) {
            ::close(pair[0]);
            ::close(pair[1]);
            spdlog::critical("supervisor: cannot start a worker: {}", e.what());
            return fail(1);
        }
        ::close(pair[1]);
        const uint64_t serial = next_serial_++;
        Child& c = children_[serial];
        c.pid = pid;
        c.reload = reload;
        c.generation = generation;
        c.link = std::make_unique<asio::posix::stream_descriptor>(io_, pair[0]);
        c.link->non_blocking(true);
        if (reload) {
            c.reload_number = ++reloads_;
            pending_ = serial;
            spdlog::info("supervisor: reload {}: started worker pid {} (generation {}) to load {} afresh",
                         c.reload_number, pid, generation, cfg_.plugin_path.string());
        } else {
            current_ = serial;
            spdlog::info("supervisor: started worker pid {} (generation {})", pid, generation);
        }
        read_link(serial);
    }

    void read_link(uint64_t serial) {
        const auto it = children_.find(serial);
        if (it == children_.end()) return;
        it->second.link->async_wait(asio::posix::stream_descriptor::wait_read, [this, serial](boost::system::error_code ec) {
            if (ec) return;
            if (drain_link(serial)) read_link(serial);
        });
    }

    // Reads what the worker wrote and acts on each whole line; false at the end of the stream.
    bool drain_link(uint64_t serial) {
        auto it = children_.find(serial);
        if (it == children_.end() || !it->second.link->is_open()) return false;
        char chunk[1024];
        bool open = true;
        for (;;) {
            const auto n = ::read(it->second.link->native_handle(), chunk, sizeof chunk);
            if (n > 0) {
                it->second.buffer.append(chunk, static_cast<std::size_t>(n));
                continue;
            }
            if (n < 0 && errno == EINTR) continue;
            open = n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
            break;
        }
        for (;;) {
            it = children_.find(serial);
            if (it == children_.end()) return false;
            auto& buffer = it->second.buffer;
            const auto nl = buffer.find('\n');
            if (nl == std::string::npos) break;
            const auto m = parse_message(std::string_view(buffer).substr(0, nl));
            buffer.erase(0, nl + 1);
            if (m) {
                on_message(serial, *m);
            } else {
                spdlog::warn("supervisor: unreadable line from worker pid {}; ignored", it->second.pid);
            }
        }
        return open;
    }

    void on_message(uint64_t serial, const Message& m) {
        switch (m.kind) {
        case Message::Kind::ready: return on_ready(serial);
        case Message::Kind::counted:
        case Message::Kind::final_counters:
            if (holder_ == serial) carry_ = m.counters;
            return;
        case Message::Kind::report: return;
        }
    }

    void on_ready(uint64_t serial) {
        Child& c = children_.at(serial);
        c.ready = true;
        if (pending_ == serial) {
            pending_.reset();
            if (current_) {
                Child& old = children_.at(*current_);
                old.retiring = true;
                old.reload_number = c.reload_number;
                ::kill(old.pid, SIGTERM);
                spdlog::info("supervisor: reload {}: worker pid {} is loaded and accepting; worker pid {} stops "
                             "accepting and drains",
                             c.reload_number, c.pid, old.pid);
            }
            current_ = serial;
            if (reload_again_) {
                reload_again_ = false;
                reload();
            }
        } else if (current_ == serial) {
            if (!served_) {
                served_ = true;
                write_files();
                spdlog::info("supervisor: worker pid {} serves on port {}", c.pid, port_);
            } else {
                spdlog::info("supervisor: worker pid {} serves again", c.pid);
            }
        }
        hand_token();
    }

    void write_files() {
        try {
            if (cfg_.port_file) os::write_atomically(*cfg_.port_file, std::to_string(port_));
            pid_file_ = cfg_.run_dir / ("cppworker-" + std::to_string(port_) + ".pid");
            os::write_atomically(*pid_file_, std::to_string(::getpid()));
        } catch (const std::exception& e) {
            spdlog::error("supervisor: cannot write the port or pid file: {}", logging::error_text(e));
        }
    }

    // The token goes to the oldest worker that serves or drains, once nobody holds it.
    void hand_token() {
        if (holder_) return;
        for (auto& [serial, c] : children_) {
            if (!c.ready) continue;
            const auto line = format_message({Message::Kind::report, carry_});
            if (::send(c.link->native_handle(), line.data(), line.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(line.size())) {
                continue;  // it is exiting; its exit hands the token on
            }
            holder_ = serial;
            spdlog::debug("supervisor: worker pid {} reports now, from num_requests_recieved {}", c.pid,
                          carry_.received_ever);
            return;
        }
    }

    void reload() {
        if (stopping_) return;
        if (pending_) {
            reload_again_ = true;
            spdlog::info("supervisor: SIGHUP during reload {}: another reload follows it", children_.at(*pending_).reload_number);
            return;
        }
        if (!current_ || !children_.at(*current_).ready) {
            spdlog::warn("supervisor: SIGHUP while no worker serves: ignored (the next worker loads the plugin anew anyway)");
            return;
        }
        start_worker(true, "", reloads_ + 1);
    }

    void reap() {
        int status = 0;
        pid_t pid = 0;
        while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) on_exit(pid, status);
    }

    void on_exit(pid_t pid, int status) {
        uint64_t serial = 0;
        bool found = false;
        for (auto& [s, c] : children_) {
            if (c.pid == pid) {
                serial = s;
                found = true;
            }
        }
        if (!found) return;
        drain_link(serial);  // its last lines ("final") come before its end
        const Child c = std::move(children_.at(serial));
        children_.erase(serial);
        if (holder_ == serial) holder_.reset();
        const auto how = os::describe_exit(status);
        if (stopping_) {
            spdlog::info("supervisor: worker pid {} {}", pid, how);
            if (current_ == serial && !os::exited_cleanly(status)) exit_code_ = 1;
        } else if (pending_ == serial) {
            pending_.reset();
            reload_again_ = false;
            spdlog::error("supervisor: reload {} failed: the new worker pid {} {} before it was loaded; the running "
                          "worker keeps serving",
                          c.reload_number, pid, how);
        } else if (c.retiring) {
            spdlog::info("supervisor: reload {} complete: worker pid {} drained and {}", c.reload_number, pid, how);
        } else if (current_ == serial) {
            current_.reset();
            crashed(c, status, how);
        } else {
            spdlog::info("supervisor: worker pid {} {}", pid, how);
        }
        hand_token();
        if (stopping_ && children_.empty()) io_.stop();
    }

    void crashed(const Child& c, int status, const std::string& how) {
        if (!served_) {
            // The first worker never served: a start-up failure. One that exited has reported it
            // itself; one killed by a signal (a plugin's init crashed) could not.
            spdlog::critical("supervisor: the worker {} before it served; stopping", how);
            if (WIFSIGNALED(status)) {
                autoscaler::report_startup_error(cfg_, "Worker Server failed to launch: the worker process " + how);
            }
            return fail(WIFEXITED(status) && WEXITSTATUS(status) != 0 ? WEXITSTATUS(status) : 1);
        }
        spdlog::error("supervisor: worker pid {} {}", c.pid, how);
        const auto d = crashes_.crashed(std::chrono::steady_clock::now());
        if (d.give_up) {
            const auto message = fmt::format("the worker process crashed {} times within {} s, the last time {}; giving up",
                                             d.crashes_in_window, crashes_.settings().window.count() / 1000, how);
            spdlog::critical("supervisor: {}", message);
            autoscaler::report_startup_error(cfg_, "Worker Server failed: " + message);
            return fail(1);
        }
        if (pending_) {
            // Simpler to start afresh than to promote a worker that is still loading.
            ::kill(children_.at(*pending_).pid, SIGTERM);
            pending_.reset();
            reload_again_ = false;
        }
        const std::string previous_crash = "worker process " + how;
        if (d.delay.count() == 0) {
            spdlog::warn("supervisor: starting a new worker at once");
            return start_worker(false, previous_crash, c.generation);
        }
        spdlog::warn("supervisor: {} crashes within {} s: starting a new worker in {} ms", d.crashes_in_window,
                     crashes_.settings().window.count() / 1000, d.delay.count());
        restart_timer_.expires_after(d.delay);
        restart_timer_.async_wait([this, previous_crash, generation = c.generation](boost::system::error_code ec) {
            if (!ec && !stopping_) start_worker(false, previous_crash, generation);
        });
    }

    void fail(int code) {
        exit_code_ = code;
        stop(0);
    }

    void stop(int sig) {
        if (stopping_) return;
        stopping_ = true;
        restart_timer_.cancel();
        if (sig != 0) spdlog::info("supervisor: signal {}: stopping {} worker(s)", sig, children_.size());
        for (auto& [serial, c] : children_) ::kill(c.pid, SIGTERM);
        if (children_.empty()) return io_.stop();
        // Workers drain within --drain-timeout and may wait that long again for their turn to
        // report; past that something hangs, and the instance has to stop all the same.
        kill_timer_.expires_after(2 * cfg_.drain_timeout + 90s);
        kill_timer_.async_wait([this](boost::system::error_code ec) {
            if (ec) return;
            spdlog::error("supervisor: {} worker(s) still running; killing them", children_.size());
            for (auto& [serial, c] : children_) ::kill(c.pid, SIGKILL);
        });
    }

    const config::Config& cfg_;
    std::vector<std::string> args_;
    const std::string name_;  // this process's, which its workers take
    asio::io_context io_;
    asio::signal_set signals_{io_, SIGHUP, SIGTERM, SIGINT};
    asio::steady_timer restart_timer_{io_};
    asio::steady_timer kill_timer_{io_};
    tcp::acceptor listener_{io_};
    uint16_t port_ = 0;
    std::map<uint64_t, Child> children_;  // in the order they started: the oldest first
    uint64_t next_serial_ = 0;
    std::optional<uint64_t> current_;  // serving, or starting to serve
    std::optional<uint64_t> pending_;  // a reload's worker, loading
    std::optional<uint64_t> holder_;   // reports to the autoscaler
    Counters carry_;                   // what the next holder continues from
    CrashPolicy crashes_;
    bool reload_again_ = false;
    int reloads_ = 0;
    bool stopping_ = false;
    bool served_ = false;
    int exit_code_ = 0;
    std::optional<std::filesystem::path> pid_file_;
};

}  // namespace

int run_master(const config::Config& cfg, int argc, char** argv) {
    Master master(cfg, argc, argv);
    return master.run();
}

}  // namespace cppworker::supervisor
