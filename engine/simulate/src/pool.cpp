#include "pool.hpp"

#include <algorithm>
#include <limits>
#include <vector>

namespace cppworker::simulate {
namespace {

// A stretch of the step in which the pool's level moves linearly and arrivals are placed at
// `rate` load units/s.
struct Piece {
    double from, to;            // s into the step
    double level_from, level_to;  // s of queue at the workers
    double rate;
};

// Places what has waited since earlier steps, oldest first, at `now`.
void place_waiting(std::deque<Cohort>& waiting, Pool& pool, double cap, double now, WaitSink& sink) {
    while (!waiting.empty() && pool.rate > 0) {
        const double room = cap * pool.rate - pool.load;
        if (room <= 0) return;
        auto& c = waiting.front();
        const double x = std::min(c.load, room);
        const double n = x >= c.load ? c.requests : c.requests * x / c.load;
        sink.placed(now - c.t + (pool.load + x / 2) / pool.rate, n);
        pool.load += x;
        pool.requests += n;
        if (x >= c.load) {
            waiting.pop_front();
        } else {
            c.load -= x;
            c.requests -= n;
        }
    }
}

// Takes `served` load, and its share of the requests, out of the pool.
void serve(Pool& pool, double served) {
    if (pool.load <= 0) return;
    const double done = served >= pool.load ? pool.requests : pool.requests * served / pool.load;
    pool.completed += done;
    pool.requests -= done;
    pool.load = served >= pool.load ? 0 : pool.load - served;
    if (pool.load == 0) pool.requests = 0;
}

// The step's arrivals into a pool nobody waits before: the pieces of the step, and the level at its end.
double plan_arrivals(double arriving_rate, const Pool& pool, double cap, double dt, std::vector<Piece>& pieces) {
    const double w0 = pool.level();
    const double k = arriving_rate / pool.rate - 1;  // how fast the level moves
    const double end = w0 + k * dt;
    if (k <= 0) {
        const double empty_at = k < 0 ? w0 / -k : std::numeric_limits<double>::infinity();
        if (empty_at >= dt) {
            pieces.push_back({0, dt, w0, end, arriving_rate});
            return end;
        }
        pieces.push_back({0, empty_at, w0, 0, arriving_rate});
        pieces.push_back({empty_at, dt, 0, 0, arriving_rate});
        return 0;
    }
    const double full_at = (cap - w0) / k;
    if (full_at >= dt) {
        pieces.push_back({0, dt, w0, end, arriving_rate});
        return end;
    }
    // Once full, the pool takes what it serves; the rest waits for a route.
    pieces.push_back({0, full_at, w0, cap, arriving_rate});
    pieces.push_back({full_at, dt, cap, cap, pool.rate});
    return cap;
}

}  // namespace

double route_and_serve(std::deque<Cohort>& waiting, const Cohort& arrivals, Pool& pool, double max_queue_time,
                       double now, double dt, WaitSink& sink) {
    place_waiting(waiting, pool, max_queue_time, now, sink);
    if (!waiting.empty() || pool.rate <= 0) {
        if (arrivals.requests > 0) waiting.push_back({now + dt / 2, arrivals.requests, arrivals.load});
        const double served = std::min(pool.load, pool.rate * dt);
        serve(pool, served);
        return served;
    }
    std::vector<Piece> pieces;
    const double end_level = plan_arrivals(arrivals.load / dt, pool, max_queue_time, dt, pieces);
    const double per_load = arrivals.load > 0 ? arrivals.requests / arrivals.load : 0;
    double routed = 0;
    // Each piece in quarters: the level is linear within a piece, so each quarter's mean wait is
    // exact and the spread of the waits is kept for the percentiles.
    for (const auto& p : pieces) {
        for (int q = 0; q < 4; ++q) {
            const double a = p.from + (p.to - p.from) * q / 4, b = p.from + (p.to - p.from) * (q + 1) / 4;
            const auto level = [&](double s) {
                return p.to > p.from ? p.level_from + (p.level_to - p.level_from) * (s - p.from) / (p.to - p.from) : p.level_from;
            };
            const double x = p.rate * (b - a);
            if (x <= 0) continue;
            sink.placed((level(a) + level(b)) / 2, x * per_load);
            routed += x;
        }
    }
    const double left = arrivals.load - routed;
    if (left > arrivals.load * 1e-9) {
        const double full_at = pieces.size() == 2 ? pieces[1].from : 0;
        waiting.push_back({now + (full_at + dt) / 2, left * per_load, left});
    }
    pool.load += routed;
    pool.requests += routed * per_load;
    const double served = std::max(pool.load - end_level * pool.rate, 0.0);
    serve(pool, served);
    return served;
}

}  // namespace cppworker::simulate
