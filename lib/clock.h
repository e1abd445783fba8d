/* clock.h — time reached through a small interface: the real clock runs on a
 * libuv loop; the fake one is moved by tests, which run controller, Job,
 * CronJob and scheduler logic in milliseconds (canonical/raft's fixture does
 * the same for whole clusters).
 *
 * Single-threaded: a clock and its timers belong to one loop (or one test). */
#ifndef ORC_LIB_CLOCK_H
#define ORC_LIB_CLOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

typedef struct orc_clock orc_clock;
typedef struct orc_timer orc_timer;

typedef void (*orc_timer_cb)(void *arg);

/* A clock on `loop` (borrowed; it must outlive the clock): now is
 * uv_now-based monotonic milliseconds, wall is the system's. Timers are
 * uv_timers. NULL on allocation failure. */
orc_clock *orc_clock_real(uv_loop_t *loop);

/* A fake clock starting at monotonic 0 and at wall time `wall_start_ms`
 * (Unix milliseconds). Time moves only through orc_clock_fake_advance.
 * NULL on allocation failure. */
orc_clock *orc_clock_fake(int64_t wall_start_ms);

/* Fake clocks only: moves time forward by `ms`, firing every timer that
 * falls due on the way, in due order (equal due times in start order), each
 * with the clock set to its due time; timers started by a callback fire in
 * the same advance when due within it. advance(0) fires what is due now. */
void orc_clock_fake_advance(orc_clock *c, uint64_t ms);

/* Fake clocks only: the delay until the next armed timer, or false when
 * none is armed. */
bool orc_clock_fake_next(const orc_clock *c, uint64_t *delay_ms);

/* Frees the clock. Every timer must have been closed first. NULL ignored. */
void orc_clock_free(orc_clock *c);

/* Monotonic milliseconds (never goes back). */
uint64_t orc_clock_now(const orc_clock *c);
/* Wall time, Unix milliseconds: for timestamps, cron and ages. */
int64_t orc_clock_wall(const orc_clock *c);

/* A one-shot timer calling cb(arg) on the clock's loop. 0, ORC_ENOMEM. */
int orc_timer_new(orc_clock *c, orc_timer_cb cb, void *arg, orc_timer **out);
/* (Re)arms the timer `delay_ms` from now; a pending arm is replaced. */
void orc_timer_start(orc_timer *t, uint64_t delay_ms);
/* Disarms; no callback fires after it returns. */
void orc_timer_stop(orc_timer *t);
bool orc_timer_armed(const orc_timer *t);
/* Stops and frees the timer (for the real clock, once libuv closed its
 * handle: run the loop before closing it). NULL ignored. Callable from the
 * timer's own callback. */
void orc_timer_close(orc_timer *t);

#endif
