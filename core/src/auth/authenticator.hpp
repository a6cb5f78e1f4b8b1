#pragma once

#include "auth/replay_window.hpp"
#include "auth/signature_verifier.hpp"
#include "auth/verified_urls.hpp"

#include <boost/json/object.hpp>

#include <memory>
#include <mutex>
#include <string>

namespace cppworker::auth {

enum class Scheme {
    url,     // Gen 3 1.1.0: the signature covers {"url": ...} only
    fields,  // Gen 3 1.0.0 and Gen 2: every auth field but the signature, with the replay window
    any,     // either, so one worker serves both generations of autoscaler
};

enum class Verdict { accepted, no_key, bad_signature, replayed };

// Decides whether auth_data was signed by the autoscaler (core/protocol.md §6). Thread-safe. The key
// may arrive after requests do (it is fetched at start); until then every check says no_key.
// A check costs at most one RSA operation, whichever scheme signed the message, and none for a
// url-scheme pair seen before.
class Authenticator {
public:
    explicit Authenticator(Scheme scheme) : scheme_(scheme) {}

    void set_key(SignatureVerifier key);
    bool has_key() const;
    Verdict check(const boost::json::object& auth_data);

private:
    std::shared_ptr<const SignatureVerifier> key() const;

    const Scheme scheme_;
    mutable std::mutex mutex_;
    std::shared_ptr<const SignatureVerifier> key_;
    VerifiedUrls verified_urls_{16};  // of key_; a new key empties it
    ReplayWindow replay_;
};

const char* to_string(Verdict v);

}  // namespace cppworker::auth
