#pragma once

#include <boost/json/object.hpp>

#include <string>
#include <string_view>

// The bytes PyWorker signs are whatever Python's json.dumps prints (see pyjson/), so these build
// exactly that text rather than equivalent JSON.
namespace cppworker::auth {

// The message of Gen 3 1.1.0: json.dumps({"url": url}, indent=4, sort_keys=True).
std::string url_message(std::string_view url);

// The message of Gen 3 1.0.0 and Gen 2: the fields cost, endpoint, reqnum, request_idx and url that
// are present in auth_data, sorted, indent=4. Every other key (signature, __request_id, ...) is
// left out.
std::string all_fields_message(const boost::json::object& auth_data);

}  // namespace cppworker::auth
