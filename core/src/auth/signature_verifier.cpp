#include "auth/signature_verifier.hpp"

#include "auth/base64.hpp"

#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <algorithm>
#include <array>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace cppworker::auth {

namespace {

struct DecoderFree {
    void operator()(OSSL_DECODER_CTX* ctx) const noexcept { OSSL_DECODER_CTX_free(ctx); }
};
struct ContextFree {
    void operator()(EVP_PKEY_CTX* ctx) const noexcept { EVP_PKEY_CTX_free(ctx); }
};

constexpr std::size_t sha256_size = std::tuple_size_v<SignatureVerifier::Digest>;

// The DER DigestInfo prefixes for SHA-256, with and without the NULL algorithm parameters. Signers
// differ here (RFC 5754 asks verifiers to accept both); PyCryptodome's pkcs1_15 accepts both, so do we.
constexpr std::array<unsigned char, 19> digest_info_with_null = {
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20};
constexpr std::array<unsigned char, 17> digest_info_without_null = {
    0x30, 0x2f, 0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x04, 0x20};

// Takes the newest error off this thread's OpenSSL queue, so a refused key or signature leaves
// nothing behind for the next OpenSSL call on the thread to trip over.
std::string take_openssl_error() {
    const unsigned long code = ERR_peek_last_error();
    ERR_clear_error();
    if (code == 0) return "no reason given";
    std::array<char, 256> text{};
    ERR_error_string_n(code, text.data(), text.size());
    return text.data();
}

std::nullopt_t refuse() {
    ERR_clear_error();
    return std::nullopt;
}

// The digest a recovered DigestInfo carries, if it is a SHA-256 one with this prefix.
template <std::size_t N>
std::optional<SignatureVerifier::Digest> digest_after(const std::vector<unsigned char>& recovered,
                                                      const std::array<unsigned char, N>& prefix) {
    if (recovered.size() != N + sha256_size || !std::equal(prefix.begin(), prefix.end(), recovered.begin())) {
        return std::nullopt;
    }
    SignatureVerifier::Digest digest{};
    std::copy(recovered.begin() + N, recovered.end(), digest.begin());
    return digest;
}

}  // namespace

void SignatureVerifier::KeyFree::operator()(EVP_PKEY* key) const noexcept { EVP_PKEY_free(key); }

SignatureVerifier::SignatureVerifier(KeyPtr key) noexcept : key_(std::move(key)) {}

SignatureVerifier SignatureVerifier::from_pem(std::string_view pem) {
    EVP_PKEY* decoded = nullptr;
    const std::unique_ptr<OSSL_DECODER_CTX, DecoderFree> decoder(
        OSSL_DECODER_CTX_new_for_pkey(&decoded, "PEM", nullptr, "RSA", EVP_PKEY_PUBLIC_KEY, nullptr, nullptr));
    if (!decoder) throw std::runtime_error("cannot set up an RSA public key decoder: " + take_openssl_error());
    const auto* data = reinterpret_cast<const unsigned char*>(pem.data());
    std::size_t length = pem.size();
    const bool ok = OSSL_DECODER_from_data(decoder.get(), &data, &length) == 1;
    KeyPtr key(decoded);
    if (!ok || !key) throw std::runtime_error("no RSA public key in the PEM text: " + take_openssl_error());
    return SignatureVerifier(std::move(key));
}

SignatureVerifier::Digest SignatureVerifier::sha256(std::string_view message) {
    Digest digest{};
    if (EVP_Digest(message.data(), message.size(), digest.data(), nullptr, EVP_sha256(), nullptr) != 1) {
        throw std::runtime_error("SHA-256 failed: " + take_openssl_error());
    }
    return digest;
}

bool SignatureVerifier::verify(std::string_view message, std::string_view signature_base64) const {
    const auto digest = signed_digest(signature_base64);
    return digest && *digest == sha256(message);
}

std::optional<SignatureVerifier::Digest> SignatureVerifier::signed_digest(std::string_view signature_base64) const {
    const auto signature = python_b64decode(signature_base64);
    // PyCryptodome refuses a signature that is not exactly as long as the modulus; OpenSSL would read
    // a shorter one as a number with leading zeros.
    if (!signature || signature->size() != static_cast<std::size_t>(EVP_PKEY_get_size(key_.get()))) {
        return std::nullopt;
    }

    // Recovering the DigestInfo (instead of EVP_DigestVerify, which insists on the NULL parameters)
    // lets us accept exactly the encodings PyCryptodome accepts.
    const std::unique_ptr<EVP_PKEY_CTX, ContextFree> ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key_.get(), nullptr));
    if (!ctx || EVP_PKEY_verify_recover_init(ctx.get()) != 1 ||
        EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) != 1) {
        return refuse();
    }
    std::vector<unsigned char> recovered(signature->size());
    std::size_t recovered_size = recovered.size();
    if (EVP_PKEY_verify_recover(ctx.get(), recovered.data(), &recovered_size,
                                reinterpret_cast<const unsigned char*>(signature->data()), signature->size()) != 1) {
        return refuse();
    }
    recovered.resize(recovered_size);
    if (auto digest = digest_after(recovered, digest_info_with_null)) return digest;
    return digest_after(recovered, digest_info_without_null);
}

}  // namespace cppworker::auth
