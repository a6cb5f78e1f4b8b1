#include "signer.hpp"

namespace cppworker::test {

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
