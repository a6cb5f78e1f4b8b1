#include "http1/answer_head.hpp"

#include "http1/head.hpp"
#include "http1/http_date.hpp"

#include <boost/beast/http/status.hpp>

namespace cppworker::http1 {

bool bodiless(unsigned status) { return status < 200 || status == 204 || status == 304; }

void answer_head(std::string& out, unsigned version, unsigned status, std::string_view content_type,
                 const std::vector<std::pair<std::string, std::string>>& headers, Framing framing,
                 std::size_t content_length, bool keep_alive) {
    http1::Fields fields;
    fields.set("Server", "cppworker");
    fields.set("Date", http1::http_date_now());
    if (!content_type.empty()) fields.set("Content-Type", content_type);
    for (const auto& [name, value] : headers) {
        if (!http1::is_framing_field(name)) fields.set(name, value);
    }
    std::string length;
    if (framing == Framing::chunked) {
        fields.set("Transfer-Encoding", "chunked");
    } else if (!bodiless(status)) {
        length = std::to_string(content_length);
        fields.set("Content-Length", length);
    }
    if (version >= 11 && !keep_alive) fields.set("Connection", "close");
    if (version < 11 && keep_alive) fields.set("Connection", "keep-alive");
    const auto reason = boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(status));
    http1::response_head(out, version, status, reason, fields);
}

}  // namespace cppworker::http1
