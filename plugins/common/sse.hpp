// Server-sent events read piece by piece, for plugins that count what a model server streams.
// Pure (no SDK): the pieces a forward delivers split events and even lines anywhere, so only the
// unfinished line and the unfinished event's data are kept between pieces.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace plugin_common {

class SseSplitter {
public:
    // A line longer than this is dropped, so a stream that never sends '\n' cannot grow memory
    // without bound. TGI's last event carries the whole generated text, hence a generous cap.
    static constexpr std::size_t max_line = std::size_t(8) << 20;

    // Calls on_event(data) for each event completed in `piece`: the event's data lines joined by
    // '\n', as the SSE spec assembles them. Events without a data line are not reported.
    template <class OnEvent>
    void feed(std::string_view piece, OnEvent&& on_event) {
        while (!piece.empty()) {
            const auto nl = piece.find('\n');
            const auto part = piece.substr(0, nl);
            if (!overflow_) {
                if (line_.size() + part.size() > max_line) {
                    overflow_ = true;
                    line_.clear();
                } else {
                    line_.append(part);
                }
            }
            if (nl == std::string_view::npos) return;
            end_line(on_event);
            piece.remove_prefix(nl + 1);
        }
    }

    // The stream ended: an unfinished last line and event still count, for servers that omit the
    // final blank line.
    template <class OnEvent>
    void finish(OnEvent&& on_event) {
        if (!line_.empty() || overflow_) end_line(on_event);
        dispatch(on_event);
    }

private:
    template <class OnEvent>
    void end_line(OnEvent& on_event) {
        std::string_view line = line_;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (overflow_) {
            overflow_ = false;
        } else if (line.empty()) {
            dispatch(on_event);
        } else if (line.starts_with("data")) {
            // "data:x", "data: x" and a bare "data" (empty value); "database: x" is another field.
            auto value = line.substr(4);
            if (value.empty() || value.front() == ':') {
                if (!value.empty()) value.remove_prefix(1);
                if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
                if (has_data_) data_ += '\n';
                data_.append(value);
                has_data_ = true;
            }
        }
        line_.clear();
    }

    template <class OnEvent>
    void dispatch(OnEvent& on_event) {
        if (!has_data_) return;
        on_event(std::string_view(data_));
        data_.clear();
        has_data_ = false;
    }

    std::string line_;
    std::string data_;
    bool has_data_ = false;
    bool overflow_ = false;
};

}  // namespace plugin_common
