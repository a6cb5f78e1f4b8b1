#include "supervisor/child_link.hpp"

#include <spdlog/spdlog.h>

#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <utility>

#include <cerrno>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

namespace cppworker::supervisor {

struct ChildLink::Shared {
    int fd;
    std::mutex mutex;
    std::condition_variable changed;
    bool token = false;
    bool gone = false;
    std::optional<Counters> carry;
    std::mutex write_mutex;
    // Called on the reader thread; cleared by drop_callbacks() before what they touch is gone.
    std::mutex callbacks_mutex;
    std::function<void()> on_token, on_master_gone;

    void call(std::function<void()> Shared::*which) {
        std::lock_guard lock(callbacks_mutex);
        if (this->*which) (this->*which)();
    }
};

namespace {

std::optional<int> fd_from(const char* name) {
    const char* v = std::getenv(name);
    if (v == nullptr) return std::nullopt;
    try {
        return std::stoi(v);
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

void close_on_exec(int fd) { ::fcntl(fd, F_SETFD, ::fcntl(fd, F_GETFD) | FD_CLOEXEC); }

}  // namespace

std::unique_ptr<ChildLink> ChildLink::from_environment() {
    const auto link = fd_from(link_fd_variable);
    const auto listen = fd_from(listen_fd_variable);
    if (!link || !listen) return nullptr;
    const bool reload = std::getenv(reload_variable) != nullptr;
    const char* crash = std::getenv(previous_crash_variable);
    std::string previous_crash = crash ? crash : "";
    for (const char* name : {link_fd_variable, listen_fd_variable, reload_variable, previous_crash_variable}) {
        ::unsetenv(name);
    }
    close_on_exec(*link);
    close_on_exec(*listen);
    return std::unique_ptr<ChildLink>(new ChildLink(*link, *listen, reload, std::move(previous_crash)));
}

ChildLink::ChildLink(int link_fd, int listen_fd, bool reload, std::string previous_crash)
    : listen_fd_(listen_fd), reload_(reload), previous_crash_(std::move(previous_crash)),
      shared_(std::make_shared<Shared>()) {
    shared_->fd = link_fd;
}

// The reader thread may sit in read() until the process ends; it holds the shared state itself.
ChildLink::~ChildLink() = default;

void ChildLink::start(std::function<void()> on_token, std::function<void()> on_master_gone) {
    {
        std::lock_guard lock(shared_->callbacks_mutex);
        shared_->on_token = std::move(on_token);
        shared_->on_master_gone = std::move(on_master_gone);
    }
    std::thread([shared = shared_] {
        std::string buffer;
        char chunk[512];
        for (;;) {
            const auto n = ::read(shared->fd, chunk, sizeof chunk);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;
            buffer.append(chunk, static_cast<std::size_t>(n));
            for (auto nl = buffer.find('\n'); nl != std::string::npos; nl = buffer.find('\n')) {
                const auto m = parse_message(std::string_view(buffer).substr(0, nl));
                buffer.erase(0, nl + 1);
                if (!m || m->kind != Message::Kind::report) {
                    spdlog::warn("supervisor: unexpected line from the master; ignored");
                    continue;
                }
                {
                    std::lock_guard lock(shared->mutex);
                    if (shared->token) continue;
                    shared->token = true;
                    shared->carry = m->counters;
                }
                shared->changed.notify_all();
                shared->call(&Shared::on_token);
            }
        }
        {
            std::lock_guard lock(shared->mutex);
            shared->gone = true;
        }
        shared->changed.notify_all();
        shared->call(&Shared::on_master_gone);
    }).detach();
}

void ChildLink::drop_callbacks() {
    std::lock_guard lock(shared_->callbacks_mutex);
    shared_->on_token = nullptr;
    shared_->on_master_gone = nullptr;
}

void ChildLink::send(const Message& m) {
    const auto line = format_message(m);
    std::lock_guard lock(shared_->write_mutex);
    std::size_t done = 0;
    while (done < line.size()) {
        const auto n = ::send(shared_->fd, line.data() + done, line.size() - done, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;  // the master is gone; the reader thread says so
        done += static_cast<std::size_t>(n);
    }
}

bool ChildLink::has_token() const {
    std::lock_guard lock(shared_->mutex);
    return shared_->token;
}

std::optional<Counters> ChildLink::take_carry() {
    std::lock_guard lock(shared_->mutex);
    return std::exchange(shared_->carry, std::nullopt);
}

bool ChildLink::wait_for_token(std::chrono::milliseconds limit) {
    std::unique_lock lock(shared_->mutex);
    shared_->changed.wait_for(lock, limit, [&] { return shared_->token || shared_->gone; });
    return shared_->token;
}

}  // namespace cppworker::supervisor
