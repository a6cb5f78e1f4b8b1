#pragma once

#include <boost/json.hpp>

#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <string_view>

// The vectors tests/auth_vectors/make_vectors.py writes at build time from Python's own json,
// base64 and PyCryptodome; *_hex fields are bytes in hex.
namespace cppworker::test {

inline const boost::json::object& python_vectors() {
    static const boost::json::object loaded = [] {
        std::ifstream in(AUTH_VECTORS, std::ios::binary);
        if (!in) throw std::runtime_error("cannot open " + std::string(AUTH_VECTORS));
        const std::string text(std::istreambuf_iterator<char>(in), {});
        return boost::json::parse(text).as_object();
    }();
    return loaded;
}

// A list of vectors the tests loop over: an empty one would let every such loop pass untested.
inline const boost::json::array& vector_list(std::string_view name) {
    const auto& list = python_vectors().at(name).as_array();
    if (list.empty()) throw std::runtime_error("the Python vectors' list \"" + std::string(name) + "\" is empty");
    return list;
}

inline std::string from_hex(const boost::json::value& hex) {
    const std::string_view digits = hex.as_string();
    std::string bytes;
    for (std::size_t i = 0; i + 1 < digits.size(); i += 2) {
        bytes += static_cast<char>(std::stoi(std::string(digits.substr(i, 2)), nullptr, 16));
    }
    return bytes;
}

inline std::string text_of(const boost::json::value& v) { return std::string(v.as_string()); }

}  // namespace cppworker::test
