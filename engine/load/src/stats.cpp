#include "stats.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace cppworker::load {

const char* outcome_name(Outcome o) {
    switch (o) {
    case Outcome::ok: return "ok";
    case Outcome::client_error: return "client_error";
    case Outcome::server_error: return "server_error";
    case Outcome::transport: return "transport_error";
    case Outcome::unrouted: return "unrouted";
    case Outcome::route_error: return "route_error";
    }
    return "?";
}

double percentile(const std::vector<double>& sorted, double p) {
    if (sorted.empty()) return std::numeric_limits<double>::quiet_NaN();
    const auto n = static_cast<double>(sorted.size());
    // 1e-9 keeps 99.9 % of 1000 at rank 999 where floating point would make it 999.0000001.
    const auto rank = static_cast<std::size_t>(std::ceil(p / 100 * n - 1e-9));
    return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

Distribution distribution(std::vector<double> values) {
    Distribution d;
    d.count = values.size();
    if (values.empty()) {
        d.mean = d.p50 = d.p90 = d.p99 = d.p999 = d.max = std::numeric_limits<double>::quiet_NaN();
        return d;
    }
    std::sort(values.begin(), values.end());
    d.mean = std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
    d.p50 = percentile(values, 50);
    d.p90 = percentile(values, 90);
    d.p99 = percentile(values, 99);
    d.p999 = percentile(values, 99.9);
    d.max = values.back();
    return d;
}

namespace {

std::optional<double> mean_gap(const Record& r) {
    if (r.token_gaps.empty()) return std::nullopt;
    return std::accumulate(r.token_gaps.begin(), r.token_gaps.end(), 0.0) / static_cast<double>(r.token_gaps.size());
}

void count_outcome(Summary& s, const Record& r) {
    switch (r.outcome) {
    case Outcome::ok: ++s.ok; break;
    case Outcome::client_error: ++s.client_errors[r.status]; break;
    case Outcome::server_error: ++s.server_errors; break;
    case Outcome::transport: ++s.transport; break;
    case Outcome::unrouted: ++s.unrouted; break;
    case Outcome::route_error: ++s.route_errors[r.status]; break;
    }
}

}  // namespace

bool meets(const Record& r, const Slo& slo) {
    if (r.outcome != Outcome::ok) return false;
    if (slo.latency && r.latency() > *slo.latency) return false;
    // A stream held to a first-token SLO that never sent a token did not meet it.
    if (slo.ttft && (!r.first_token || *r.first_token > *slo.ttft)) return false;
    if (slo.itl) {
        const auto gap = mean_gap(r);
        if (gap && *gap > *slo.itl) return false;
    }
    return true;
}

Summary summarize(const std::vector<Record>& records, double seconds, const Slo& slo) {
    Summary s;
    s.requests = records.size();
    s.seconds = seconds;
    std::vector<double> latencies, ttfts, gaps;
    for (const auto& r : records) {
        count_outcome(s, r);
        if (r.outcome != Outcome::ok && !r.error.empty()) ++s.errors[r.error];
        s.retries += r.attempts > 1 ? static_cast<std::size_t>(r.attempts - 1) : 0;
        if (meets(r, slo)) ++s.good;
        if (r.outcome != Outcome::ok) continue;
        latencies.push_back(r.latency());
        if (r.first_token) {
            ++s.streams;
            ttfts.push_back(*r.first_token);
            gaps.insert(gaps.end(), r.token_gaps.begin(), r.token_gaps.end());
        }
        s.tokens += r.tokens;
    }
    s.latency = distribution(std::move(latencies));
    s.ttft = distribution(std::move(ttfts));
    s.itl = distribution(std::move(gaps));
    const double per = seconds > 0 ? 1 / seconds : 0;
    s.served_per_second = static_cast<double>(s.ok) * per;
    s.tokens_per_second = static_cast<double>(s.tokens) * per;
    s.goodput = static_cast<double>(s.good) * per;
    if (s.requests > 0) {
        s.error_rate = static_cast<double>(s.requests - s.ok) / static_cast<double>(s.requests);
        s.slo_attainment = static_cast<double>(s.good) / static_cast<double>(s.requests);
    }
    return s;
}

std::vector<Second> per_second(const std::vector<Record>& records, double seconds) {
    const auto n = static_cast<std::size_t>(std::max(1.0, std::ceil(seconds)));
    std::vector<Second> out(n);
    std::vector<std::vector<double>> latencies(n);
    auto bucket = [n](double t) { return std::min(n - 1, static_cast<std::size_t>(std::max(0.0, t))); };
    for (const auto& r : records) {
        out[bucket(r.intended)].offered += 1;
        out[bucket(r.sent)].sent += 1;
        if (r.outcome == Outcome::ok) {
            out[bucket(r.done)].served += 1;
            latencies[bucket(r.done)].push_back(r.latency());
        } else {
            out[bucket(r.done)].errors += 1;
        }
    }
    for (std::size_t i = 0; i < n; ++i) {
        std::sort(latencies[i].begin(), latencies[i].end());
        out[i].p99 = percentile(latencies[i], 99);
    }
    return out;
}

}  // namespace cppworker::load
