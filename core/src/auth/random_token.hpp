#pragma once

#include <string>

namespace cppworker::auth {

// 128 bits from OpenSSL's CSPRNG as 32 lowercase hex digits: for what must not be guessed (session
// ids, API keys, master tokens). Throws std::runtime_error if the generator fails.
std::string random_token();

}  // namespace cppworker::auth
