#pragma once
// The ready workers as one fluid queue. The engine routes each request to the ready worker with
// the least queue time (load in flight / max_perf) while that is within max_queue_time, which keeps
// their queue times level; so the simulator keeps one level for all of them: the pool's load in
// flight over its summed perf. What finds no room waits in the engine's route queue, first come
// first placed, as the engine's RouteQueue keeps it.
#include <deque>

namespace cppworker::simulate {

// Requests that asked for a route together.
struct Cohort {
    double t = 0;         // when they asked (s)
    double requests = 0;  // how many (a fluid count)
    double load = 0;      // their cost, load units
};

struct Pool {
    double rate = 0;      // load units/s: the ready workers' perf, summed
    double load = 0;      // load in flight at them (queued at a worker or being served)
    double requests = 0;  // requests in flight at them
    double completed = 0; // requests they finished, over the run
    double level() const { return rate > 0 ? load / rate : 0; }
};

// Where placed requests' queue times go: `seconds` is from first asking for a route to the start
// of service (waiting for a route, then the queue at the worker).
class WaitSink {
public:
    virtual ~WaitSink() = default;
    virtual void placed(double seconds, double requests) = 0;
};

// One step [now, now + dt): first the routes waiting since earlier steps are placed at `now`, as
// far as the pool has room within max_queue_time; then the step's arrivals, spread evenly over the
// step, are placed while the pool's level stays within max_queue_time, and the rest wait (all of
// them when earlier routes still wait: a newer request never takes an older one's place). The pool
// serves its rate meanwhile. Returns the load served in the step.
double route_and_serve(std::deque<Cohort>& waiting, const Cohort& arrivals, Pool& pool, double max_queue_time,
                       double now, double dt, WaitSink& sink);

}  // namespace cppworker::simulate
