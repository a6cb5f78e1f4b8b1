#include "auth/authenticator.hpp"

#include "auth/signature_message.hpp"

namespace cppworker::auth {

void Authenticator::set_key(SignatureVerifier key) {
    auto shared = std::make_shared<const SignatureVerifier>(std::move(key));
    std::lock_guard lock(mutex_);
    key_ = std::move(shared);
}

std::shared_ptr<const SignatureVerifier> Authenticator::key() const {
    std::lock_guard lock(mutex_);
    return key_;
}

bool Authenticator::has_key() const { return key() != nullptr; }

Verdict Authenticator::check(const boost::json::object& auth_data) {
    const auto verifier = key();
    if (!verifier) return Verdict::no_key;
    const auto* signature = auth_data.if_contains("signature");
    const auto* url = auth_data.if_contains("url");
    if (signature == nullptr || !signature->is_string()) return Verdict::bad_signature;
    const std::string_view sig = signature->get_string();

    if (scheme_ != Scheme::fields && url != nullptr && url->is_string() &&
        verifier->verify(url_message(url->get_string()), sig)) {
        return Verdict::accepted;
    }
    if (scheme_ == Scheme::url) return Verdict::bad_signature;

    const std::string message = all_fields_message(auth_data);
    if (!verifier->verify(message, sig)) return Verdict::bad_signature;
    const auto* reqnum = auth_data.if_contains("reqnum");
    if (reqnum == nullptr || !reqnum->is_number()) return Verdict::bad_signature;
    std::lock_guard lock(mutex_);
    return replay_.admit(reqnum->to_number<int64_t>(), message) ? Verdict::accepted : Verdict::replayed;
}

const char* to_string(Verdict v) {
    switch (v) {
    case Verdict::accepted: return "accepted";
    case Verdict::no_key: return "no public key loaded yet";
    case Verdict::bad_signature: return "bad signature";
    case Verdict::replayed: return "replayed or too old (reqnum window)";
    }
    return "?";
}

}  // namespace cppworker::auth
