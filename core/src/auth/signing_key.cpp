#include "auth/signing_key.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <fstream>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <vector>

#include <sys/stat.h>

namespace cppworker::auth {
namespace {

std::string openssl_reason() {
    const unsigned long code = ::ERR_get_error();
    if (code == 0) return "no reason given";
    char text[256];
    ::ERR_error_string_n(code, text, sizeof text);
    return text;
}

struct BioFree {
    void operator()(BIO* bio) const noexcept { ::BIO_free(bio); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;

std::string bio_text(BIO* bio) {
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    return std::string(data, static_cast<std::size_t>(n));
}

}  // namespace

void SigningKey::KeyFree::operator()(EVP_PKEY* key) const noexcept { ::EVP_PKEY_free(key); }

SigningKey::SigningKey(KeyPtr key) noexcept : key_(std::move(key)) {}

SigningKey SigningKey::generate() {
    KeyPtr key(::EVP_RSA_gen(2048));
    if (!key) throw std::runtime_error("generating an RSA key failed: " + openssl_reason());
    return SigningKey(std::move(key));
}

SigningKey SigningKey::load(const std::filesystem::path& pem_file) {
    std::ifstream in(pem_file);
    if (!in) throw std::runtime_error("cannot read the signing key " + pem_file.string());
    const std::string pem(std::istreambuf_iterator<char>(in), {});
    BioPtr bio(::BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    KeyPtr key(::PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
    if (!key || ::EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_RSA) {
        throw std::runtime_error("the signing key " + pem_file.string() + " holds no RSA private key: " +
                                 openssl_reason());
    }
    return SigningKey(std::move(key));
}

SigningKey SigningKey::load_or_create(const std::filesystem::path& pem_file) {
    if (std::filesystem::exists(pem_file)) return load(pem_file);
    auto key = generate();
    const auto tmp = pem_file.string() + ".tmp";
    {
        std::ofstream out(tmp);
        out << key.private_pem();
        if (!out) throw std::runtime_error("cannot write the signing key " + tmp);
    }
    ::chmod(tmp.c_str(), 0600);
    std::filesystem::rename(tmp, pem_file);
    return key;
}

std::string SigningKey::public_pem() const {
    BioPtr bio(::BIO_new(::BIO_s_mem()));
    if (::PEM_write_bio_PUBKEY(bio.get(), key_.get()) != 1) {
        throw std::runtime_error("writing a public key failed: " + openssl_reason());
    }
    return bio_text(bio.get());
}

std::string SigningKey::private_pem() const {
    BioPtr bio(::BIO_new(::BIO_s_mem()));
    if (::PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
        throw std::runtime_error("writing a private key failed: " + openssl_reason());
    }
    return bio_text(bio.get());
}

std::string SigningKey::sign(std::string_view message) const {
    std::unique_ptr<EVP_MD_CTX, decltype(&::EVP_MD_CTX_free)> ctx(::EVP_MD_CTX_new(), &::EVP_MD_CTX_free);
    const auto* bytes = reinterpret_cast<const unsigned char*>(message.data());
    std::size_t length = 0;
    std::vector<unsigned char> signature;
    bool ok = ctx && ::EVP_DigestSignInit(ctx.get(), nullptr, ::EVP_sha256(), nullptr, key_.get()) == 1 &&
              ::EVP_DigestSign(ctx.get(), nullptr, &length, bytes, message.size()) == 1;
    if (ok) {
        signature.resize(length);
        ok = ::EVP_DigestSign(ctx.get(), signature.data(), &length, bytes, message.size()) == 1;
    }
    if (!ok) throw std::runtime_error("signing failed: " + openssl_reason());
    std::string base64(4 * ((length + 2) / 3) + 1, '\0');
    const int n = ::EVP_EncodeBlock(reinterpret_cast<unsigned char*>(base64.data()), signature.data(),
                                    static_cast<int>(length));
    base64.resize(static_cast<std::size_t>(n));
    return base64;
}

}  // namespace cppworker::auth
