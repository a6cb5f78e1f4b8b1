#pragma once

#include <openssl/types.h>

#include <array>
#include <memory>
#include <optional>
#include <string_view>

namespace cppworker::auth {

// The autoscaler's RSA public key and the check PyWorker makes with it:
// pkcs1_15.new(key).verify(SHA256.new(message), base64.b64decode(signature)).
// verify may be called from several threads at once; each call works on its own OpenSSL context.
class SignatureVerifier {
public:
    using Digest = std::array<unsigned char, 32>;

    // Reads a PEM public key in either form PyCryptodome's RSA.import_key reads: "BEGIN PUBLIC KEY"
    // (SubjectPublicKeyInfo) or "BEGIN RSA PUBLIC KEY" (PKCS#1). Throws std::runtime_error carrying
    // OpenSSL's reason when the text holds no RSA public key.
    static SignatureVerifier from_pem(std::string_view pem);

    // True when signature_base64, decoded like Python's base64.b64decode, is a valid RSASSA-PKCS1-v1_5
    // signature of SHA-256(message). Undecodable base64, a signature of the wrong length and every
    // OpenSSL error are false.
    bool verify(std::string_view message, std::string_view signature_base64) const;

    // The SHA-256 digest that signature_base64 signs, by the same rules as verify; empty when it
    // signs none. One RSA operation then checks a signature against several candidate messages.
    std::optional<Digest> signed_digest(std::string_view signature_base64) const;

    static Digest sha256(std::string_view message);

private:
    struct KeyFree {
        void operator()(EVP_PKEY* key) const noexcept;
    };
    using KeyPtr = std::unique_ptr<EVP_PKEY, KeyFree>;

    explicit SignatureVerifier(KeyPtr key) noexcept;

    KeyPtr key_;
};

}  // namespace cppworker::auth
