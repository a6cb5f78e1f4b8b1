#include "auth/base64.hpp"
#include "auth/replay_window.hpp"
#include "auth/signature_message.hpp"
#include "auth/signature_verifier.hpp"
#include "python_vectors.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace json = boost::json;
using namespace cppworker::auth;
using namespace cppworker::test;

namespace {

std::string message_for(const json::object& vector) {
    const auto auth = json::parse(vector.at("auth_data_json").as_string()).as_object();
    if (vector.at("scheme").as_string() == "url") return url_message(auth.at("url").as_string());
    return all_fields_message(auth);
}

std::string signature_of(const json::object& vector) {
    return text_of(json::parse(vector.at("auth_data_json").as_string()).at("signature"));
}

}  // namespace

TEST_CASE("auth message: the url message of Gen 3 1.1.0", "[auth][message]") {
    CHECK(url_message("https://1.2.3.4:40123") == "{\n    \"url\": \"https://1.2.3.4:40123\"\n}");
    for (const auto& v : vector_list("url_messages")) {
        const auto url = from_hex(v.at("url_hex"));
        INFO("url: " << url);
        CHECK(url_message(url) == from_hex(v.at("expected_hex")));
    }
}

TEST_CASE("auth message: the all-fields message of Gen 3 1.0.0 and Gen 2", "[auth][message]") {
    const auto example = json::parse(R"({"url": "http://x:1", "signature": "s", "request_idx": 7, "reqnum": 5,)"
                                     R"( "__request_id": "r", "endpoint": "ep", "cost": 242.0})");
    CHECK(all_fields_message(example.as_object()) ==
          "{\n    \"cost\": 242.0,\n    \"endpoint\": \"ep\",\n    \"reqnum\": 5,\n    \"request_idx\": 7,\n"
          "    \"url\": \"http://x:1\"\n}");
    for (const auto& v : vector_list("all_fields_messages")) {
        INFO("auth_data: " << text_of(v.at("auth_data_json")));
        CHECK(all_fields_message(json::parse(v.at("auth_data_json").as_string()).as_object()) ==
              from_hex(v.at("expected_hex")));
    }
}

TEST_CASE("auth b64decode: same bytes or same refusal as Python's base64.b64decode", "[auth][b64]") {
    for (const auto& v : vector_list("b64decode")) {
        const auto input = from_hex(v.at("input_hex"));
        INFO("input: " << input);
        const auto decoded = python_b64decode(input);
        if (v.at("expected_hex").is_null()) {
            CHECK_FALSE(decoded);
        } else {
            REQUIRE(decoded);
            CHECK(*decoded == from_hex(v.at("expected_hex")));
        }
    }
}

TEST_CASE("auth signature: both PEM forms accept what PyWorker accepts and nothing else", "[auth][signature]") {
    for (const char* pem_name : {"public_key_spki_pem", "public_key_pkcs1_pem"}) {
        const auto verifier = SignatureVerifier::from_pem(python_vectors().at(pem_name).as_string());
        for (const auto& item : vector_list("signatures")) {
            const auto& v = item.as_object();
            INFO(pem_name << ": " << text_of(v.at("name")));
            CHECK(verifier.verify(message_for(v), signature_of(v)) == v.at("valid").as_bool());
        }
    }
}

TEST_CASE("auth signature: a text that holds no RSA public key is refused with a reason", "[auth][signature]") {
    const std::string spki = text_of(python_vectors().at("public_key_spki_pem"));
    const std::vector<std::string> bad_pems = {"", "not a key", spki.substr(0, spki.size() / 2),
                                               "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"};
    for (const auto& bad : bad_pems) {
        INFO("pem: " << bad);
        try {
            SignatureVerifier::from_pem(bad);
            FAIL("the key was accepted");
        } catch (const std::runtime_error& e) {
            CHECK_THAT(e.what(), Catch::Matchers::StartsWith("no RSA public key in the PEM text: error:"));
        }
    }
}

TEST_CASE("auth signature: a moved verifier checks from many threads at once", "[auth][signature]") {
    auto original = SignatureVerifier::from_pem(python_vectors().at("public_key_spki_pem").as_string());
    const SignatureVerifier verifier = std::move(original);
    const auto& cases = vector_list("signatures");
    std::vector<int> mismatches(4, 0);
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < mismatches.size(); ++t) {
        threads.emplace_back([&, t] {
            for (int round = 0; round < 5; ++round) {
                for (const auto& item : cases) {
                    const auto& v = item.as_object();
                    if (verifier.verify(message_for(v), signature_of(v)) != v.at("valid").as_bool()) ++mismatches[t];
                }
            }
        });
    }
    for (auto& thread : threads) thread.join();
    CHECK(mismatches == std::vector<int>(4, 0));
}

TEST_CASE("auth replay window: a reqnum more than 100 behind the newest is refused", "[auth][replay]") {
    ReplayWindow window;
    // PyWorker starts from reqnum -1.
    CHECK_FALSE(window.admit(-102, "a"));
    CHECK(window.admit(-101, "b"));
    CHECK(window.admit(1000, "c"));
    CHECK_FALSE(window.admit(899, "d"));
    CHECK(window.admit(900, "e"));
}

TEST_CASE("auth replay window: a message accepted before is refused", "[auth][replay]") {
    ReplayWindow window;
    CHECK(window.admit(5, "same"));
    CHECK_FALSE(window.admit(5, "same"));
    CHECK_FALSE(window.admit(6, "same"));
    CHECK(window.admit(5, "other"));
}

TEST_CASE("auth replay window: a message is forgotten after 100 newer ones", "[auth][replay]") {
    ReplayWindow window;
    REQUIRE(window.admit(0, "first"));
    for (int i = 1; i < 100; ++i) REQUIRE(window.admit(i, "message " + std::to_string(i)));
    CHECK_FALSE(window.admit(100, "first"));
    REQUIRE(window.admit(100, "message 100"));
    CHECK(window.admit(101, "first"));
    CHECK_FALSE(window.admit(102, "message 2"));  // still among the last 100
}

TEST_CASE("auth replay window: the newest reqnum never goes back", "[auth][replay]") {
    ReplayWindow window;
    REQUIRE(window.admit(500, "a"));
    CHECK(window.admit(450, "b"));
    CHECK_FALSE(window.admit(399, "c"));  // still measured from 500, not from 450
    CHECK(window.admit(400, "d"));
}

TEST_CASE("auth base64: non-ASCII is refused wherever it is, also after a completed group", "[auth][b64]") {
    // Python: base64.b64decode("YQ==é") raises ValueError ("string argument should contain only
    // ASCII characters") before decoding, though decoding would stop at "==".
    CHECK_FALSE(python_b64decode("YQ==\xC3\xA9"));
    CHECK_FALSE(python_b64decode("YQ==\x80"));
    CHECK_FALSE(python_b64decode("YQ==QUJD\xFF"));
    CHECK_FALSE(python_b64decode("YWJj\xFF"));
    CHECK_FALSE(python_b64decode("\xC3\xA9YQ=="));
    CHECK_FALSE(python_b64decode("Y\xC3\xA9Q=="));
    // ASCII after the group is ignored, as Python ignores it.
    CHECK(python_b64decode("YQ==\x7F") == std::optional<std::string>("a"));
    CHECK(python_b64decode("YQ==QUJD!") == std::optional<std::string>("a"));
}
