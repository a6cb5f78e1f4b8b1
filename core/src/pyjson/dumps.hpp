#pragma once

#include <boost/json/value.hpp>

#include <string>
#include <string_view>

// JSON written byte for byte as Python's json.dumps writes it. Vast's side is Python: it signs
// json.dumps output, and PyWorker answers with it, so the worker reproduces that output exactly
// rather than producing merely equivalent JSON. Serves the signature messages, the autoscaler
// reports and the worker's own answers.
namespace cppworker::pyjson {

// json.dumps(s) for a str (ensure_ascii=True): a quoted literal in which every character outside
// ' '..'~', and '"' and '\', is escaped; non-ASCII becomes lowercase \uXXXX, UTF-16 surrogate pairs
// above U+FFFF. Throws std::invalid_argument when utf8 is not valid UTF-8: Boost.JSON's parser
// never yields such a string, so it can only come from a caller's bug.
std::string json_string(std::string_view utf8);

// repr(float) as json.dumps writes it: shortest round-trip digits, exponent form when the decimal
// exponent is < -4 or >= 16 ("1e+16", "1e-07"), otherwise fixed with a fractional part ("242.0");
// infinities and NaN as "Infinity", "-Infinity", "NaN".
std::string float_repr(double value);

// json.dumps(value): separators ", " and ": ", members in their order in the object. This is what
// aiohttp's web.json_response and a client's `json=` body write. Integers Boost.JSON could not
// hold (beyond 64 bits) were already parsed as doubles and print as floats, where Python would
// print the integer. Throws std::invalid_argument for a string that is not UTF-8.
std::string dumps(const boost::json::value& value);

// json.dumps(value, separators=(",", ":")).
std::string dumps_compact(const boost::json::value& value);

// json.dumps(value, indent=4, sort_keys=sort_keys): the signed messages.
std::string dumps_indent4(const boost::json::value& value, bool sort_keys);

// Bytes that are not UTF-8 each become U+FFFD, so text from outside (a request path, a system
// message) can go into JSON without throwing.
std::string valid_utf8(std::string_view bytes);

// json.dumps({"error": message}); `message` need not be UTF-8 (see valid_utf8).
std::string error_body(std::string_view message);

}  // namespace cppworker::pyjson
