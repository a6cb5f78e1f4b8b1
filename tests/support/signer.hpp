#pragma once

#include "auth/signing_key.hpp"

#include <string>
#include <string_view>

namespace cppworker::test {

// Plays the autoscaler's part in signing: a fresh RSA-2048 key, its public half as PEM, and
// RSASSA-PKCS1-v1_5 / SHA-256 signatures in base64, as Vast's /route/ hands them out.
class Signer {
public:
    Signer() : key_(auth::SigningKey::generate()) {}

    std::string public_pem() const { return key_.public_pem(); }
    std::string sign(std::string_view message) const { return key_.sign(message); }

    // The messages, written out by hand for plain-ASCII values (the unit tests check the worker's
    // builder against Python byte for byte; these only need to agree on simple cases).
    static std::string url_message(std::string_view url);
    static std::string fields_message(double cost, std::string_view endpoint, long reqnum, long request_idx,
                                      std::string_view url);

private:
    auth::SigningKey key_;
};

// One key for a whole test binary: making an RSA key costs more than most tests.
const Signer& signer();

// auth_data as /route/ returns it, signed over the url (Gen 3 1.1.0) or over all fields (1.0.0).
std::string signed_auth(const Signer& signer, std::string_view url, long reqnum, long request_idx,
                        bool all_fields = false, double cost = 100.0);

}  // namespace cppworker::test
