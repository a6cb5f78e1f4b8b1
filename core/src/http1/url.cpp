#include "http1/url.hpp"

namespace cppworker::http1 {

std::optional<Url> parse_url(std::string_view text) {
    Url u;
    if (text.starts_with("http://")) {
        u.scheme = "http";
        text.remove_prefix(7);
    } else if (text.starts_with("https://")) {
        u.scheme = "https";
        text.remove_prefix(8);
    } else {
        return std::nullopt;
    }
    const auto slash = text.find_first_of("/?");
    std::string_view authority = text.substr(0, slash);
    u.target = slash == std::string_view::npos ? "/" : std::string(text.substr(slash));
    if (u.target.front() == '?') u.target.insert(0, "/");
    if (authority.empty() || authority.find('@') != std::string_view::npos) return std::nullopt;
    if (authority.front() == '[') {  // [v6]:port
        const auto close = authority.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        u.host = std::string(authority.substr(1, close - 1));
        authority.remove_prefix(close + 1);
        if (!authority.empty() && authority.front() != ':') return std::nullopt;
        if (!authority.empty()) u.port = std::string(authority.substr(1));
    } else {
        const auto colon = authority.rfind(':');
        u.host = std::string(authority.substr(0, colon));
        if (colon != std::string_view::npos) u.port = std::string(authority.substr(colon + 1));
    }
    if (u.host.empty()) return std::nullopt;
    if (u.port.empty()) u.port = u.scheme == "https" ? "443" : "80";
    if (u.port.find_first_not_of("0123456789") != std::string::npos || u.port.size() > 5) return std::nullopt;
    return u;
}

std::optional<Url> resolve(std::string_view base, std::string_view path) {
    if (path.starts_with("http://") || path.starts_with("https://")) return parse_url(path);
    auto u = parse_url(base);
    if (!u) return std::nullopt;
    std::string joined = u->target;
    if (!joined.empty() && joined.back() == '/' && path.starts_with('/')) joined.pop_back();
    if (!path.starts_with('/') && (joined.empty() || joined.back() != '/')) joined += '/';
    u->target = joined + std::string(path);
    return u;
}

}  // namespace cppworker::http1
