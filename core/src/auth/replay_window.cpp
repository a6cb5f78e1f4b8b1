#include "auth/replay_window.hpp"

#include <algorithm>

namespace cppworker::auth {

bool ReplayWindow::admit(std::int64_t reqnum, const std::string& message) {
    if (reqnum < max_seen_reqnum_ - history_length) return false;
    if (accepted_lookup_.contains(message)) return false;
    max_seen_reqnum_ = std::max(max_seen_reqnum_, reqnum);
    if (accepted_.size() == static_cast<std::size_t>(history_length)) {
        accepted_lookup_.erase(accepted_.front());
        accepted_.pop_front();
    }
    accepted_lookup_.insert(accepted_.emplace_back(message));
    return true;
}

}  // namespace cppworker::auth
