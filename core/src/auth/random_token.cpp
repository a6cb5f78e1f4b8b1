#include "auth/random_token.hpp"

#include <openssl/rand.h>

#include <array>
#include <stdexcept>

namespace cppworker::auth {

std::string random_token() {
    std::array<unsigned char, 16> bytes{};
    // Never a seeded PRNG: its outputs can be predicted from outputs seen.
    if (::RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
        throw std::runtime_error("the system's random generator failed");
    }
    static constexpr char hex[] = "0123456789abcdef";
    std::string token;
    token.reserve(bytes.size() * 2);
    for (const unsigned char b : bytes) {
        token += hex[b >> 4];
        token += hex[b & 0xF];
    }
    return token;
}

}  // namespace cppworker::auth
