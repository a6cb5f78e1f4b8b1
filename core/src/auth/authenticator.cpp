#include "auth/authenticator.hpp"

#include "auth/signature_message.hpp"

namespace cppworker::auth {

void Authenticator::set_key(SignatureVerifier key) {
    auto shared = std::make_shared<const SignatureVerifier>(std::move(key));
    std::lock_guard lock(mutex_);
    key_ = std::move(shared);
    verified_urls_.clear();
}

std::shared_ptr<const SignatureVerifier> Authenticator::key() const {
    std::lock_guard lock(mutex_);
    return key_;
}

bool Authenticator::has_key() const { return key() != nullptr; }

Verdict Authenticator::check(const boost::json::object& auth_data) {
    const auto* signature = auth_data.if_contains("signature");
    const auto* url_field = auth_data.if_contains("url");
    const bool url_scheme = scheme_ != Scheme::fields && url_field != nullptr && url_field->is_string();
    const std::string_view url = url_scheme ? std::string_view(url_field->get_string()) : std::string_view();
    std::shared_ptr<const SignatureVerifier> verifier;
    {
        std::lock_guard lock(mutex_);
        verifier = key_;
        if (!verifier) return Verdict::no_key;
        if (signature == nullptr || !signature->is_string()) return Verdict::bad_signature;
        if (url_scheme && verified_urls_.contains(url, signature->get_string())) return Verdict::accepted;
    }
    const std::string_view sig = signature->get_string();
    const auto digest = verifier->signed_digest(sig);
    if (!digest) return Verdict::bad_signature;

    if (url_scheme && *digest == SignatureVerifier::sha256(url_message(url))) {
        std::lock_guard lock(mutex_);
        if (key_ == verifier) verified_urls_.add(url, sig);
        return Verdict::accepted;
    }
    if (scheme_ == Scheme::url) return Verdict::bad_signature;

    const std::string message = all_fields_message(auth_data);
    if (*digest != SignatureVerifier::sha256(message)) return Verdict::bad_signature;
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
