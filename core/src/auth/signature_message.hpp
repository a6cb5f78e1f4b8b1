#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <string>
#include <string_view>

// The bytes PyWorker signs are whatever Python's json.dumps prints, so these functions reproduce
// its output exactly rather than producing equivalent JSON.
namespace cppworker::auth {

// Python's json.dumps(s) for a str (ensure_ascii=True): a quoted literal in which every character
// outside ' '..'~', and '"' and '\', is escaped; non-ASCII becomes lowercase \uXXXX, UTF-16
// surrogate pairs above U+FFFF. Throws std::invalid_argument when utf8 is not valid UTF-8:
// Boost.JSON's parser never yields such a string, so it can only come from a caller's bug.
std::string python_json_string(std::string_view utf8);

// Python's repr(float) as json.dumps writes it: shortest round-trip digits, exponent form when the
// decimal exponent is < -4 or >= 16 ("1e+16", "1e-07"), otherwise fixed with a fractional part
// ("242.0"); infinities and NaN as "Infinity", "-Infinity", "NaN".
std::string python_float_repr(double value);

// json.dumps(value, indent=4, sort_keys=sort_keys). Without sort_keys, members keep their order in
// the object. Integers Boost.JSON could not hold (beyond 64 bits) were already parsed as doubles
// and print as floats, where Python would print the integer.
std::string python_json_dumps_indent4(const boost::json::value& value, bool sort_keys);

// The message of Gen 3 1.1.0: json.dumps({"url": url}, indent=4, sort_keys=True).
std::string url_message(std::string_view url);

// The message of Gen 3 1.0.0 and Gen 2: the fields cost, endpoint, reqnum, request_idx and url that
// are present in auth_data, sorted, indent=4. Every other key (signature, __request_id, ...) is
// left out.
std::string all_fields_message(const boost::json::object& auth_data);

}  // namespace cppworker::auth
