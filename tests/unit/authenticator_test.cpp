#include "auth/authenticator.hpp"
#include "auth/verified_urls.hpp"
#include "python_vectors.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <memory>
#include <string>

namespace json = boost::json;
using namespace cppworker::auth;
using namespace cppworker::test;

namespace {

SignatureVerifier vectors_key() {
    return SignatureVerifier::from_pem(python_vectors().at("public_key_spki_pem").as_string());
}

// A key that signed none of the vectors.
SignatureVerifier another_key() {
    const std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_RSA_gen(2048), EVP_PKEY_free);
    REQUIRE(key);
    const std::unique_ptr<BIO, decltype(&BIO_free)> out(BIO_new(BIO_s_mem()), BIO_free);
    REQUIRE(PEM_write_bio_PUBKEY(out.get(), key.get()) == 1);
    char* data = nullptr;
    const long size = BIO_get_mem_data(out.get(), &data);
    return SignatureVerifier::from_pem(std::string(data, static_cast<std::size_t>(size)));
}

json::object auth_data_of(const json::object& vector) {
    return json::parse(vector.at("auth_data_json").as_string()).as_object();
}

bool is_url_vector(const json::object& v) { return v.at("scheme").as_string() == "url"; }

const json::object& first_valid_url_vector() {
    for (const auto& item : vector_list("signatures")) {
        if (is_url_vector(item.as_object()) && item.at("valid").as_bool()) return item.as_object();
    }
    throw std::runtime_error("no valid url-scheme vector");
}

}  // namespace

TEST_CASE("auth authenticator: without a key every check says no_key", "[auth][authenticator]") {
    Authenticator authenticator(Scheme::any);
    CHECK(authenticator.check(auth_data_of(first_valid_url_vector())) == Verdict::no_key);
    CHECK(authenticator.check(json::object{}) == Verdict::no_key);
}

TEST_CASE("auth authenticator: url scheme, a repeated pair gets the verdict it got the first time",
          "[auth][authenticator]") {
    Authenticator authenticator(Scheme::url);
    authenticator.set_key(vectors_key());
    // Twice over the whole list: the second pass is answered from the verified pairs where it can
    // be, and a pair that shares a signature or a url with a verified one must still be refused.
    for (int pass = 0; pass < 2; ++pass) {
        for (const auto& item : vector_list("signatures")) {
            const auto& v = item.as_object();
            if (!is_url_vector(v)) continue;
            INFO("pass " << pass << ": " << text_of(v.at("name")));
            const auto expected = v.at("valid").as_bool() ? Verdict::accepted : Verdict::bad_signature;
            CHECK(authenticator.check(auth_data_of(v)) == expected);
        }
    }
}

TEST_CASE("auth authenticator: any scheme accepts what either scheme signed, with one RSA operation",
          "[auth][authenticator]") {
    for (const auto& item : vector_list("signatures")) {
        const auto& v = item.as_object();
        if (!v.at("valid").as_bool()) continue;
        INFO(text_of(v.at("name")));
        Authenticator authenticator(Scheme::any);
        authenticator.set_key(vectors_key());
        const auto auth = auth_data_of(v);
        CHECK(authenticator.check(auth) == Verdict::accepted);
        // The fields scheme has a replay window; the url scheme does not.
        CHECK(authenticator.check(auth) == (is_url_vector(v) ? Verdict::accepted : Verdict::replayed));
    }
}

TEST_CASE("auth authenticator: fields scheme refuses a url-scheme signature", "[auth][authenticator]") {
    Authenticator authenticator(Scheme::fields);
    authenticator.set_key(vectors_key());
    CHECK(authenticator.check(auth_data_of(first_valid_url_vector())) == Verdict::bad_signature);
}

TEST_CASE("auth authenticator: a new key forgets the pairs the old one verified", "[auth][authenticator]") {
    Authenticator authenticator(Scheme::url);
    authenticator.set_key(vectors_key());
    const auto auth = auth_data_of(first_valid_url_vector());
    REQUIRE(authenticator.check(auth) == Verdict::accepted);
    authenticator.set_key(another_key());
    CHECK(authenticator.check(auth) == Verdict::bad_signature);
    authenticator.set_key(vectors_key());
    CHECK(authenticator.check(auth) == Verdict::accepted);
}

TEST_CASE("auth verified urls: a pair is known only whole, and the oldest makes room", "[auth][authenticator]") {
    VerifiedUrls urls(2);
    urls.add("http://a", "sig-a");
    CHECK(urls.contains("http://a", "sig-a"));
    CHECK_FALSE(urls.contains("http://a", "sig-b"));
    CHECK_FALSE(urls.contains("http://b", "sig-a"));
    urls.add("http://a", "sig-a");
    CHECK(urls.size() == 1);
    urls.add("http://b", "sig-b");
    urls.add("http://c", "sig-c");
    CHECK(urls.size() == 2);
    CHECK_FALSE(urls.contains("http://a", "sig-a"));
    CHECK(urls.contains("http://b", "sig-b"));
    CHECK(urls.contains("http://c", "sig-c"));
    urls.add("http://d", "sig-d");
    CHECK_FALSE(urls.contains("http://b", "sig-b"));
    CHECK(urls.contains("http://c", "sig-c"));
    urls.clear();
    CHECK(urls.size() == 0);
    CHECK_FALSE(urls.contains("http://c", "sig-c"));
}

TEST_CASE("auth verified urls: capacity 0 keeps nothing", "[auth][authenticator]") {
    VerifiedUrls urls(0);
    urls.add("http://a", "sig-a");
    CHECK_FALSE(urls.contains("http://a", "sig-a"));
}
