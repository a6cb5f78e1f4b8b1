#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace cppworker::http1 {

struct Url {
    std::string scheme;  // "http" or "https"
    std::string host;
    std::string port;    // defaulted from the scheme
    std::string target;  // path and query, at least "/"
};

// http[s]://host[:port][/path][?query]; anything else is empty.
std::optional<Url> parse_url(std::string_view text);

// `path` resolved against `base` the way PyWorker's aiohttp session does: an absolute URL stands
// alone, anything else is appended to the base's path.
std::optional<Url> resolve(std::string_view base, std::string_view path);

}  // namespace cppworker::http1
