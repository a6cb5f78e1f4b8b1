#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace cppworker::auth {

// Python's base64.b64decode(s) for a str s, with its default validate=False (binascii.a2b_base64,
// non-strict), so a signature PyWorker accepts decodes to the same bytes here:
// - characters outside A-Z a-z 0-9 + / and '=' are skipped;
// - decoding stops at the first pad that completes a group (two or more data characters before it);
//   whatever follows is ignored; pads that complete nothing are skipped;
// - ending inside a group (one data character, or two or three without enough padding) is an error.
// Python refuses a str holding non-ASCII characters before decoding, so any byte >= 0x80 is an
// error too, wherever it is (also after a completed group: "YQ==\xc3\xa9" is refused, not "a").
// Errors give nullopt.
std::optional<std::string> python_b64decode(std::string_view text);

}  // namespace cppworker::auth
