#include "condlif/timer.h"

#include <time.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <x86intrin.h>
#define CL_HAVE_TSC 1
#endif

const char *const cl_phase_names[CL_NPHASES] = {"build", "update", "deliver", "exchange", "write"};

double cl_timer_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static uint64_t clock_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* 1 when the time-stamp counter runs at a constant rate whatever the core's clock and sleep
 * state (CPUID 80000007H, EDX bit 8: "invariant TSC"); decided once. A switch then costs a
 * few ns instead of a clock_gettime (about 25 ns on a virtual machine: a tenth of a step of a
 * network of 400 neurons). */
static int use_tsc = -1;

static uint64_t ticks(void) {
#ifdef CL_HAVE_TSC
  if (use_tsc)
    return __rdtsc();
#endif
  return clock_ns();
}

void cl_timer_init(cl_timer *t) {
  if (use_tsc < 0) {
    use_tsc = 0;
#ifdef CL_HAVE_TSC
    unsigned a, b, c, d;
    if (__get_cpuid(0x80000000u, &a, &b, &c, &d) && a >= 0x80000007u &&
        __get_cpuid(0x80000007u, &a, &b, &c, &d))
      use_tsc = (d >> 8) & 1u;
#endif
  }
  for (int i = 0; i < CL_NPHASES; i++) {
    t->seconds[i] = 0.0;
    t->ticks[i] = 0;
  }
  t->running = -1;
  t->started = 0;
  t->sec0 = cl_timer_now();
  t->tick0 = ticks();
}

/* Charges the running phase, if any, up to now. */
static void charge(cl_timer *t, uint64_t now) {
  if (t->running >= 0)
    t->ticks[t->running] += now - t->started;
  t->started = now;
}

void cl_timer_stop(cl_timer *t) {
  charge(t, ticks());
  t->running = -1;
}

const double *cl_timer_seconds(cl_timer *t) {
  const uint64_t now = ticks();
  charge(t, now); /* a running phase goes on */
  /* seconds per count: exact for the clock; for the TSC its rate since init */
  double rate = 1e-9;
  if (use_tsc)
    rate = now > t->tick0 ? (cl_timer_now() - t->sec0) / (double)(now - t->tick0) : 0.0;
  for (int i = 0; i < CL_NPHASES; i++)
    t->seconds[i] = (double)t->ticks[i] * rate;
  return t->seconds;
}

void cl_timer_start(cl_timer *t, int phase) {
  charge(t, ticks());
  t->running = phase;
}
