#include "auth/verified_urls.hpp"

#include <algorithm>

namespace cppworker::auth {

bool VerifiedUrls::contains(std::string_view url, std::string_view signature) const {
    return std::any_of(entries_.begin(), entries_.end(),
                       [&](const Entry& e) { return e.signature == signature && e.url == url; });
}

void VerifiedUrls::add(std::string_view url, std::string_view signature) {
    if (capacity_ == 0 || contains(url, signature)) return;
    if (entries_.size() < capacity_) {
        entries_.push_back(Entry{std::string(url), std::string(signature)});
        return;
    }
    entries_[oldest_] = Entry{std::string(url), std::string(signature)};
    oldest_ = (oldest_ + 1) % capacity_;
}

void VerifiedUrls::clear() {
    entries_.clear();
    oldest_ = 0;
}

}  // namespace cppworker::auth
