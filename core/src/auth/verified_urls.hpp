#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace cppworker::auth {

// Url-scheme signatures already verified with the current key. Gen 3 1.1.0 signs only the worker's
// url, so a worker sees the same (url, signature) pair on every request, and a pair once valid stays
// valid (that scheme has no replay window): a repeat costs a comparison instead of an RSA operation.
// Not thread-safe; the Authenticator guards it.
class VerifiedUrls {
public:
    explicit VerifiedUrls(std::size_t capacity) : capacity_(capacity) {}

    bool contains(std::string_view url, std::string_view signature) const;
    // Past capacity the oldest pair makes room: a flood of distinct valid pairs costs RSA again, never memory.
    void add(std::string_view url, std::string_view signature);
    void clear();
    std::size_t size() const { return entries_.size(); }

private:
    struct Entry {
        std::string url;
        std::string signature;
    };
    std::size_t capacity_;
    std::vector<Entry> entries_;
    std::size_t oldest_ = 0;
};

}  // namespace cppworker::auth
