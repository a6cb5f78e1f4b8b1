#include "http/tls_context.hpp"

#include <stdexcept>

namespace cppworker::http {
namespace ssl = boost::asio::ssl;

ssl::context make_tls_context(const std::filesystem::path& cert, const std::filesystem::path& key) {
    ssl::context context(ssl::context::tls_server);
    context.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                        ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    boost::system::error_code ec;
    context.use_certificate_chain_file(cert.string(), ec);
    if (ec) throw std::runtime_error("USE_SSL: cannot use the certificate " + cert.string() + ": " + ec.message());
    context.use_private_key_file(key.string(), ssl::context::pem, ec);
    if (ec) throw std::runtime_error("USE_SSL: cannot use the private key " + key.string() + ": " + ec.message());
    return context;
}

}  // namespace cppworker::http
