#include "readiness/readiness_state.hpp"

#include <string_view>

namespace cppworker::readiness {

void ReadinessState::set_loaded(double max_perf) {
    const double loadtime = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    std::lock_guard lock(mutex_);
    view_.loaded = true;
    view_.loadtime = loadtime;
    view_.max_perf = max_perf;
}

namespace {

// Reports carry error_msg as a JSON string, which must be UTF-8; OS and plugin messages may not be.
std::string valid_utf8(std::string_view in) {
    std::string out;
    for (std::size_t i = 0; i < in.size();) {
        const auto c = static_cast<unsigned char>(in[i]);
        const std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
        bool ok = len > 0 && i + len <= in.size();
        for (std::size_t k = 1; ok && k < len; ++k) ok = (static_cast<unsigned char>(in[i + k]) >> 6) == 0x2;
        if (ok) {
            out.append(in.substr(i, len));
            i += len;
        } else {
            out += '?';
            ++i;
        }
    }
    return out;
}

}  // namespace

void ReadinessState::set_error(std::string message) {
    std::lock_guard lock(mutex_);
    if (view_.error_msg.empty()) view_.error_msg = valid_utf8(message);
}

ReadinessState::View ReadinessState::view() const {
    std::lock_guard lock(mutex_);
    return view_;
}

bool ReadinessState::ready() const {
    std::lock_guard lock(mutex_);
    return view_.loaded && view_.error_msg.empty();
}

double ReadinessState::max_perf() const {
    std::lock_guard lock(mutex_);
    return view_.max_perf;
}

}  // namespace cppworker::readiness
