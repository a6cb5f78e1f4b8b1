#pragma once

#include <boost/json/error.hpp>
#include <boost/json/storage_ptr.hpp>
#include <boost/json/value.hpp>

#include <string_view>

// JSON read as Python's json.loads reads its numbers. Boost.JSON 1.81's parser is not correctly
// rounded (precise parsing arrived in 1.83): "1899341278.4556139" reads as the double that prints
// 1899341278.455614, about one 17-digit decimal in seven lands an ulp or more off, and "0e999" reads
// as NaN. Python's float() is correctly rounded, so a field Vast signed would be re-printed with
// other digits than the ones it signed. These functions accept and refuse exactly what
// boost::json::parse does (same grammar, errors, depth limit, duplicate keys, integers as int64 /
// uint64), and differ only in reading every number that becomes a double (a fraction, an exponent,
// or an integer beyond 64 bits) with std::from_chars: the nearest double, ±inf beyond the largest
// and ±0.0 below the smallest, as float() gives.
namespace cppworker::pyjson {

// boost::json::parse(text, ec, sp): on an error `ec` is set and the result is null.
boost::json::value parse(std::string_view text, boost::json::error_code& ec, boost::json::storage_ptr sp = {});

// boost::json::parse(text, sp): throws boost::system::system_error on an error.
boost::json::value parse(std::string_view text, boost::json::storage_ptr sp = {});

}  // namespace cppworker::pyjson
