#include "autoscaler/report.hpp"

#include "pyjson/dumps.hpp"

#include <algorithm>

namespace cppworker::autoscaler {
namespace {

using pyjson::float_repr;
using pyjson::json_string;

// A JSON object in json.dumps' default layout, members in the order they are added.
class ObjectWriter {
public:
    ObjectWriter& literal(std::string_view key, std::string_view json) {
        out_ += out_.size() == 1 ? "" : ", ";
        out_ += json_string(key);
        out_ += ": ";
        out_ += json;
        return *this;
    }
    ObjectWriter& string(std::string_view key, std::string_view value) {
        return literal(key, json_string(value));
    }
    ObjectWriter& number(std::string_view key, double value) { return literal(key, float_repr(value)); }
    ObjectWriter& integer(std::string_view key, int64_t value) { return literal(key, std::to_string(value)); }
    ObjectWriter& boolean(std::string_view key, bool value) { return literal(key, value ? "true" : "false"); }

    std::string finish() {
        out_ += '}';
        return std::move(out_);
    }

private:
    std::string out_ = "{";
};

std::string int_list(const std::vector<int64_t>& values) {
    std::string out = "[";
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (i > 0) out += ", ";
        out += std::to_string(values[i]);
    }
    return out + ']';
}

// Python's rstrip("/"), which PyWorker applies before appending the endpoint path.
std::string_view strip_trailing_slashes(std::string_view addr) {
    const auto end = addr.find_last_not_of('/');
    return end == std::string_view::npos ? std::string_view{} : addr.substr(0, end + 1);
}

std::string_view trim_spaces(std::string_view text) {
    const auto begin = text.find_first_not_of(' ');
    if (begin == std::string_view::npos) return {};
    return text.substr(begin, text.find_last_not_of(' ') - begin + 1);
}

}  // namespace

std::string worker_url(bool use_ssl, std::string_view public_ip, std::string_view external_port) {
    std::string url = use_ssl ? "https://" : "http://";
    url += public_ip;
    url += ':';
    url += external_port;
    return url;
}

std::string worker_status_body(const WorkerIdentity& worker, const StatusInput& status) {
    const auto& ledger = status.ledger;
    // cur_load, rej_load, new_load and cur_perf always print as floats here. PyWorker starts them as
    // floats but its reset() assigns int 0, so after the first accepted report an idle interval
    // prints "0" where we print "0.0" (and cur_load is sum([]) == 0 when nothing is working). A JSON
    // consumer reads both as the same number.
    return ObjectWriter{}
        .integer("id", worker.id)
        .string("mtoken", worker.mtoken)
        .string("version", worker.version)
        .number("loadtime", status.loadtime)
        .number("cur_load", ledger.in_flight)
        .number("rej_load", ledger.rejected)
        .number("new_load", std::max(ledger.received - ledger.cancelled, 0.0))
        .string("error_msg", status.error_msg)
        .number("max_perf", status.max_perf)
        .number("cur_perf", ledger.served)
        .integer("cur_capacity", 0)
        .integer("max_capacity", 0)
        .integer("num_requests_working", static_cast<int64_t>(ledger.num_working))
        .integer("num_requests_recieved", static_cast<int64_t>(ledger.num_received_ever))
        .number("additional_disk_usage", status.additional_disk_usage)
        .literal("working_request_idxs", int_list(ledger.working_request_idxs))
        .string("url", worker.url)
        .finish();
}

std::string delete_requests_body(int64_t worker_id, std::string_view mtoken, const std::vector<int64_t>& request_idxs,
                                 bool success) {
    return ObjectWriter{}
        .integer("worker_id", worker_id)
        .string("mtoken", mtoken)
        .literal("request_idxs", int_list(request_idxs))
        .boolean("success", success)
        .finish();
}

std::pair<std::vector<int64_t>, std::vector<int64_t>> split_deletes(const std::vector<accounting::DeleteEntry>& entries) {
    std::pair<std::vector<int64_t>, std::vector<int64_t>> split;
    for (const auto& entry : entries) (entry.success ? split.first : split.second).push_back(entry.request_idx);
    return split;
}

std::string startup_error_body(int64_t id, std::string_view mtoken, std::string_view version,
                               std::string_view error_msg, std::string_view url) {
    // start_server.sh pretty-prints this from a heredoc with its values pasted in unescaped; the
    // layout means nothing to a JSON parser, and escaping keeps a quote in error_msg from breaking
    // the body as it would break the script's.
    return ObjectWriter{}
        .integer("id", id)
        .string("mtoken", mtoken)
        .string("version", version)
        .string("error_msg", error_msg)
        .string("url", url)
        .finish();
}

std::vector<std::string> split_report_addrs(std::string_view report_addr) {
    // PyWorker splits on ',' and nothing more; trimming spaces and dropping empty entries only
    // rescues lists PyWorker would turn into unreachable URLs.
    std::vector<std::string> addrs;
    while (true) {
        const auto comma = report_addr.find(',');
        const auto addr = strip_trailing_slashes(trim_spaces(report_addr.substr(0, comma)));
        if (!addr.empty()) addrs.emplace_back(addr);
        if (comma == std::string_view::npos) return addrs;
        report_addr.remove_prefix(comma + 1);
    }
}

bool skip_for_deletes(std::string_view addr) {
    return strip_trailing_slashes(addr) == "https://cloud.vast.ai/api/v0";
}

std::string status_error_msg(const std::string& own_error, bool loaded, const std::string& previous_crash,
                             bool crash_reported) {
    if (!own_error.empty()) return own_error;
    if (!previous_crash.empty() && (!loaded || !crash_reported)) return previous_crash;
    return {};
}

}  // namespace cppworker::autoscaler
