// http1::parse_url and resolve: what parses is well formed and prints back to a URL that parses
// to the same parts; resolve keeps the base's origin and appends the path.
#include "fuzz_support.hpp"

#include "http1/url.hpp"

#include <string>

namespace cppworker_fuzz {
namespace {

using cppworker::http1::Url;

bool same(const Url& a, const Url& b) {
    return a.scheme == b.scheme && a.host == b.host && a.port == b.port && a.target == b.target;
}

void check_parsed(std::string_view text, const Url& u) {
    FUZZ_CHECK(u.scheme == "http" || u.scheme == "https");
    FUZZ_CHECK(text.starts_with(u.scheme + "://"));
    FUZZ_CHECK(!u.host.empty());
    FUZZ_CHECK(u.host.find_first_of("/?@") == std::string::npos);
    FUZZ_CHECK(!u.port.empty() && u.port.size() <= 5 && u.port.find_first_not_of("0123456789") == std::string::npos);
    FUZZ_CHECK(!u.target.empty() && u.target.front() == '/');
    // The target is the input's from its first '/' or '?' after the authority.
    const auto rest = text.substr(u.scheme.size() + 3);
    const auto slash = rest.find_first_of("/?");
    if (slash == std::string_view::npos) {
        FUZZ_CHECK(u.target == "/");
    } else {
        FUZZ_CHECK(u.target == (rest[slash] == '?' ? "/" : "") + std::string(rest.substr(slash)));
    }
    // Printed again (a host with no ']' in brackets, so its colons are not taken for the port's).
    const std::string host = u.host.find(']') == std::string::npos ? "[" + u.host + "]" : u.host;
    const auto again = cppworker::http1::parse_url(u.scheme + "://" + host + ":" + u.port + u.target);
    FUZZ_CHECK(again && same(*again, u));
}

}  // namespace

int run_url(const uint8_t* data, std::size_t size) {
    Reader in(data, size);
    const uint8_t mode = in.byte();
    const std::string first(in.until_nul());
    const std::string second(in.rest());
    const auto u = cppworker::http1::parse_url(first);
    if (u) check_parsed(first, *u);
    if (!(mode & 1)) return 0;

    // first is the base, second the path.
    const auto r = cppworker::http1::resolve(first, second);
    if (second.starts_with("http://") || second.starts_with("https://")) {
        const auto alone = cppworker::http1::parse_url(second);
        FUZZ_CHECK(r.has_value() == alone.has_value());
        if (r) FUZZ_CHECK(same(*r, *alone));
        return 0;
    }
    FUZZ_CHECK(r.has_value() == u.has_value());
    if (!r) return 0;
    FUZZ_CHECK(r->scheme == u->scheme && r->host == u->host && r->port == u->port);
    FUZZ_CHECK(r->target.ends_with(second));
    // The base's target, less a trailing '/' the path brings itself, then exactly one '/'.
    std::string base = u->target;
    if (second.starts_with('/') && base.ends_with('/')) base.pop_back();
    if (!second.starts_with('/') && !base.ends_with('/')) base += '/';
    FUZZ_CHECK(r->target == base + second);
    return 0;
}

}  // namespace cppworker_fuzz
