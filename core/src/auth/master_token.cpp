#include "auth/master_token.hpp"

#include <openssl/crypto.h>

namespace cppworker::auth {

bool master_token_matches(std::string_view master_token, std::string_view authorization) {
    if (master_token.empty()) return false;
    std::string_view token = authorization;
    if (token.starts_with("Bearer ")) token.remove_prefix(7);
    if (token.size() != master_token.size()) return false;
    return CRYPTO_memcmp(token.data(), master_token.data(), token.size()) == 0;
}

}  // namespace cppworker::auth
