#include "signer.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <stdexcept>
#include <vector>

namespace cppworker::test {

struct Signer::Key {
    EVP_PKEY* pkey = nullptr;
    ~Key() { EVP_PKEY_free(pkey); }
};

Signer::Signer() : key_(std::make_unique<Key>()) {
    key_->pkey = EVP_RSA_gen(2048);
    if (key_->pkey == nullptr) throw std::runtime_error("RSA key generation failed");
}

Signer::~Signer() = default;

std::string Signer::public_pem() const {
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(bio, key_->pkey);
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    std::string pem(data, static_cast<std::size_t>(n));
    BIO_free(bio);
    return pem;
}

std::string Signer::sign(std::string_view message) const {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    std::size_t len = 0;
    std::vector<unsigned char> sig;
    bool ok = EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key_->pkey) == 1 &&
              EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(message.data()),
                             message.size()) == 1;
    if (ok) {
        sig.resize(len);
        ok = EVP_DigestSign(ctx, sig.data(), &len, reinterpret_cast<const unsigned char*>(message.data()),
                            message.size()) == 1;
    }
    EVP_MD_CTX_free(ctx);
    if (!ok) throw std::runtime_error("signing failed");
    std::string b64(4 * ((len + 2) / 3) + 1, '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()), sig.data(), static_cast<int>(len));
    b64.resize(static_cast<std::size_t>(n));
    return b64;
}

std::string Signer::url_message(std::string_view url) {
    return "{\n    \"url\": \"" + std::string(url) + "\"\n}";
}

std::string Signer::fields_message(double cost, std::string_view endpoint, long reqnum, long request_idx,
                                   std::string_view url) {
    // Integral costs only, so Python's repr is "<n>.0".
    return "{\n    \"cost\": " + std::to_string(static_cast<long>(cost)) + ".0,\n    \"endpoint\": \"" +
           std::string(endpoint) + "\",\n    \"reqnum\": " + std::to_string(reqnum) +
           ",\n    \"request_idx\": " + std::to_string(request_idx) + ",\n    \"url\": \"" + std::string(url) +
           "\"\n}";
}

std::string signed_auth(const Signer& signer, std::string_view url, long reqnum, long request_idx, bool all_fields,
                        double cost) {
    const std::string endpoint = "test-endpoint";
    const auto message = all_fields ? Signer::fields_message(cost, endpoint, reqnum, request_idx, url)
                                    : Signer::url_message(url);
    return "{\"cost\": " + std::to_string(static_cast<long>(cost)) + ".0, \"endpoint\": \"" + endpoint +
           "\", \"reqnum\": " + std::to_string(reqnum) + ", \"request_idx\": " + std::to_string(request_idx) +
           ", \"signature\": \"" + signer.sign(message) + "\", \"url\": \"" + std::string(url) +
           "\", \"__request_id\": \"r-" + std::to_string(request_idx) + "\"}";
}

const Signer& signer() {
    static const Signer s;
    return s;
}

}  // namespace cppworker::test
