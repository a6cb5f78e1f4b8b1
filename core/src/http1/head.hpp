#pragma once

#include <boost/container/small_vector.hpp>

#include <memory_resource>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cppworker::http1 {

// The header fields of one HTTP/1.1 head, in the order they go out. Views: what they point at
// must outlive the head's bytes being built. Names and values are checked by whoever took them
// from a plugin or the model server (no CR or LF).
class Fields {
public:
    // Replaces every field of the same name (compared without case), as Beast's set does.
    void set(std::string_view name, std::string_view value);
    bool contains(std::string_view name) const;

    // "Name: value\r\n" per field.
    template <class String>
    void append_to(String& out) const {
        for (const auto& [name, value] : fields_) {
            out.append(name);
            out.append(": ");
            out.append(value);
            out.append("\r\n");
        }
    }

private:
    // A head has a handful of fields: they fit inside, with no allocation per request.
    boost::container::small_vector<std::pair<std::string_view, std::string_view>, 8> fields_;
};

// Content-Length, Transfer-Encoding and Connection: the framing and the connection, which
// whoever writes the head sets; a copy taken from elsewhere is dropped.
bool is_framing_field(std::string_view name);

// "METHOD target HTTP/1.1\r\n", the fields, "\r\n": appended straight to one buffer (the
// forward's arena), which goes out in one write with the body (Beast's serializer costs more than
// the request it writes).
void request_head(std::pmr::string& out, std::string_view method, std::string_view target, const Fields& fields);

// "HTTP/1.x status reason\r\n", the fields, "\r\n", appended to `out`. `version` is Beast's: 11 or 10.
void response_head(std::string& out, unsigned version, unsigned status, std::string_view reason, const Fields& fields);

}  // namespace cppworker::http1
