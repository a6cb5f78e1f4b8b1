#pragma once

#include <openssl/types.h>

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace cppworker::auth {

// The autoscaler's side of the signatures SignatureVerifier checks: an RSA private key, its public
// half as PEM (what GET /pubkey/ serves) and RSASSA-PKCS1-v1_5 / SHA-256 signatures in base64, as
// Vast's /route/ hands them out. sign may be called from several threads at once.
class SigningKey {
public:
    // A fresh RSA-2048 key.
    static SigningKey generate();
    // Reads a PEM private key; throws std::runtime_error naming the file and OpenSSL's reason.
    static SigningKey load(const std::filesystem::path& pem_file);
    // The key in `pem_file` when it holds one; otherwise a fresh key, written there (mode 0600)
    // so that a restart signs with the same key its workers fetched.
    static SigningKey load_or_create(const std::filesystem::path& pem_file);

    std::string public_pem() const;
    std::string private_pem() const;
    // Base64 of the signature of SHA-256(message); throws std::runtime_error when OpenSSL fails.
    std::string sign(std::string_view message) const;

private:
    struct KeyFree {
        void operator()(EVP_PKEY* key) const noexcept;
    };
    using KeyPtr = std::unique_ptr<EVP_PKEY, KeyFree>;

    explicit SigningKey(KeyPtr key) noexcept;

    KeyPtr key_;
};

}  // namespace cppworker::auth
