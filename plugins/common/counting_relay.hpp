// A Transform that relays a model server's answer to the client unchanged and, when it is an SSE
// stream, counts what its events carry (tokens, chunks) as they pass. Used instead of a plain
// forward only where the count is wanted: it costs one copy of each piece through the plugin.
#pragma once

#include "sse.hpp"

#include <cppworker/plugin.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace plugin_common {

struct StreamCounters {
    std::atomic<uint64_t> items{0};    // whatever count_event counts
    std::atomic<uint64_t> streams{0};  // streams relayed to their end
};

class CountingRelay final : public cppworker::Transform {
public:
    // How many items one event's data carries; must not throw.
    using CountEvent = uint64_t (*)(std::string_view event_data) noexcept;

    // Shared: a forward's last callback may come as the worker shuts down, after the plugin is gone.
    CountingRelay(CountEvent count_event, std::shared_ptr<StreamCounters> counters)
        : count_(count_event), counters_(std::move(counters)) {}

    void head(cppworker::Reply& reply, const cppworker::UpstreamHead& head) override {
        streaming_ = head.streaming;
        if (streaming_) {
            // As PyWorker relays a stream: the model's status and content type, nothing else.
            reply.begin_stream(head.status, head.content_type.empty() ? "text/event-stream" : head.content_type);
        } else {
            status_ = head.status;
            content_type_ = head.content_type;
        }
    }

    void data(cppworker::Reply& reply, std::string_view piece) override {
        if (!streaming_) {
            body_.append(piece);  // an error answer: small, sent whole at the end
            return;
        }
        reply.write(piece);
        splitter_.feed(piece, [this](std::string_view event) { counters_->items += count_(event); });
    }

    void done(cppworker::Reply& reply, const cppworker::UpstreamResult& result) override {
        if (!result.ok()) return Transform::done(reply, result);
        if (!streaming_) {
            reply.send(status_, content_type_, body_);
            return;
        }
        splitter_.finish([this](std::string_view event) { counters_->items += count_(event); });
        ++counters_->streams;
        reply.end();
    }

private:
    CountEvent count_;
    std::shared_ptr<StreamCounters> counters_;
    SseSplitter splitter_;
    bool streaming_ = false;
    uint16_t status_ = 502;
    std::string content_type_;
    std::string body_;
};

}  // namespace plugin_common
