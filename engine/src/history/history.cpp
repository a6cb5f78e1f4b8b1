#include "history/history.hpp"

#include <algorithm>
#include <cmath>

namespace cppworker::engine {

HistoryLimits HistoryLimits::for_tick(double tick, double span) {
    HistoryLimits limits;
    const double count = tick > 0 ? std::ceil(span / tick) : 1;
    limits.samples = static_cast<std::size_t>(std::clamp(count, 1.0, 36'000.0));
    return limits;
}

void History::add(Sample s) {
    s.seq = ++last_;
    auto& samples = endpoints_[s.endpoint_id].samples;
    samples.push_back(std::move(s));
    while (samples.size() > limits_.samples) samples.pop_front();
}

void History::add(ActionRecord a) {
    a.seq = ++last_;
    auto& actions = endpoints_[a.endpoint_id].actions;
    actions.push_back(std::move(a));
    while (actions.size() > limits_.actions) actions.pop_front();
}

void History::keep_only(const std::set<int64_t>& endpoints) {
    std::erase_if(endpoints_, [&](const auto& e) { return !endpoints.contains(e.first); });
}

namespace {

// The entries of a ring after `seq`: the ring is in sequence order, so a binary search finds them.
template <class T>
std::vector<const T*> after(const std::deque<T>& ring, uint64_t seq) {
    auto it = std::upper_bound(ring.begin(), ring.end(), seq, [](uint64_t s, const T& e) { return s < e.seq; });
    std::vector<const T*> out;
    for (; it != ring.end(); ++it) out.push_back(&*it);
    return out;
}

}  // namespace

History::Since History::since(uint64_t seq) const {
    Since out;
    out.last = last_;
    for (const auto& [id, ring] : endpoints_) {
        out.samples[id] = after(ring.samples, seq);
        out.actions[id] = after(ring.actions, seq);
    }
    return out;
}

std::size_t History::sample_count(int64_t endpoint_id) const {
    const auto it = endpoints_.find(endpoint_id);
    return it == endpoints_.end() ? 0 : it->second.samples.size();
}

std::size_t History::action_count(int64_t endpoint_id) const {
    const auto it = endpoints_.find(endpoint_id);
    return it == endpoints_.end() ? 0 : it->second.actions.size();
}

std::string_view action_name(Action::Kind kind) {
    switch (kind) {
    case Action::Kind::create: return "create";
    case Action::Kind::start: return "start";
    case Action::Kind::stop: return "stop";
    case Action::Kind::destroy: return "destroy";
    }
    return "?";
}

}  // namespace cppworker::engine
