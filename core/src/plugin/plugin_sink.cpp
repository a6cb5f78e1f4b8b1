#include "plugin/plugin_sink.hpp"

#include <string>
#include <vector>

namespace cppworker::plugin {
namespace {

cppw_str view(std::string_view s) { return cppw_str{s.data(), s.size()}; }

class PluginSink final : public upstream::AnswerSink {
public:
    PluginSink(const cppw_forward& f, cppw_request_id request)
        : user_(f.user), on_head_(f.on_head), on_data_(f.on_data), on_done_(f.on_done), request_(request),
          whole_(f.mode == CPPW_FORWARD_BODY) {}

    void head(const upstream::UpstreamHead& head) override {
        if (on_head_ == nullptr) return;
        std::vector<cppw_header> headers;
        headers.reserve(head.headers.size());
        for (const auto& [name, value] : head.headers) headers.push_back(cppw_header{view(name), view(value)});
        const cppw_upstream_head h{sizeof(cppw_upstream_head), static_cast<uint16_t>(head.status),
                                   static_cast<uint16_t>(head.streaming ? 1 : 0), view(head.content_type),
                                   headers.data(), headers.size()};
        on_head_(user_, request_, &h);
    }

    bool keeps_whole_body() const override { return whole_; }

    void data(std::string_view piece) override {
        if (whole_) {
            body_.append(piece);
        } else if (on_data_ != nullptr) {
            on_data_(user_, request_, view(piece));
        }
    }

    void done(cppw_status status, std::string_view message) override {
        if (whole_ && status == CPPW_OK && on_data_ != nullptr) on_data_(user_, request_, view(body_));
        on_done_(user_, request_, status, view(message));
    }

private:
    void* user_;
    decltype(cppw_forward::on_head) on_head_;
    decltype(cppw_forward::on_data) on_data_;
    decltype(cppw_forward::on_done) on_done_;
    cppw_request_id request_;
    bool whole_;
    std::string body_;
};

}  // namespace

std::unique_ptr<upstream::AnswerSink> make_plugin_sink(const cppw_forward& forward, cppw_request_id request) {
    return std::make_unique<PluginSink>(forward, request);
}

}  // namespace cppworker::plugin
