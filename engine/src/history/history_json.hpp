#pragma once

#include "history/history.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <map>
#include <string>

namespace cppworker::engine {

// GET /api/dashboard/'s answer (README "The dashboard"): what `since` holds, per endpoint, named
// by `names` (an endpoint without a name there is left out: it was deleted).
boost::json::object history_json(const History::Since& since, const std::map<int64_t, std::string>& names,
                                 const HistoryLimits& limits, double tick);

}  // namespace cppworker::engine
