#include "upstream/relay_sink.hpp"

#include "pyjson/dumps.hpp"
#include "upstream/answer_rules.hpp"

#include <cppworker/plugin.hpp>

#include <string>

namespace cppworker::upstream {
namespace {

class RelaySink final : public AnswerSink {
public:
    explicit RelaySink(std::shared_ptr<requests::PendingRequest> pending) : pending_(std::move(pending)) {}

    void head(const UpstreamHead& head) override {
        answer_.status = static_cast<uint16_t>(head.status);
        answer_.content_type = head.content_type;
        answer_.headers.reserve(head.headers.size());
        for (const auto& [name, value] : head.headers) {
            if (is_relayed_header(name)) answer_.headers.emplace_back(std::string(name), std::string(value));
        }
        streaming_ = head.streaming;
        if (streaming_) {
            if (answer_.content_type.empty()) answer_.content_type = "application/octet-stream";
            pending_->stream_begin(std::move(answer_));
        }
    }

    bool keeps_whole_body() const override { return !streaming_; }

    void data(std::string_view piece) override {
        if (streaming_) {
            pending_->stream_write(std::string(piece));
        } else {
            answer_.body.append(piece);
        }
    }

    void done(cppw_status status, std::string_view message) override {
        if (streaming_) {
            pending_->stream_end(status == CPPW_OK ? CPPW_OK : CPPW_ERROR);
        } else if (status == CPPW_OK) {
            pending_->respond(std::move(answer_));
        } else {
            pending_->respond(failed_forward_answer(status, message));
        }
    }

private:
    std::shared_ptr<requests::PendingRequest> pending_;
    requests::Answer answer_;
    bool streaming_ = false;
};

}  // namespace

requests::Answer failed_forward_answer(cppw_status status, std::string_view message) {
    requests::Answer a;
    a.status = status == CPPW_UPSTREAM_TIMEOUT ? 504 : status == CPPW_UPSTREAM_UNREACHABLE ? 502 : 500;
    a.content_type = "application/json";
    a.body = pyjson::error_body(message);
    a.failed = true;
    return a;
}

std::unique_ptr<AnswerSink> make_relay_sink(std::shared_ptr<requests::PendingRequest> pending) {
    return std::make_unique<RelaySink>(std::move(pending));
}

}  // namespace cppworker::upstream
