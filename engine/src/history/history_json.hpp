#pragma once

#include "history/history.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <map>
#include <string>

namespace cppworker::engine {

// GET /api/dashboard/'s answer (README "The dashboard"): what `since` holds, per endpoint, named
// by `names` (an endpoint without a name there is left out: it was deleted). The workers of every
// sample with `all_workers`, else only of each endpoint's newest: an hour of samples with their
// workers runs to megabytes, and the page's table shows only the newest.
boost::json::object history_json(const History::Since& since, const std::map<int64_t, std::string>& names,
                                 const HistoryLimits& limits, double tick, bool all_workers);

}  // namespace cppworker::engine
