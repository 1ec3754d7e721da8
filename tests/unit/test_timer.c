/* timer: phase times from the cheap counter agree with the monotonic clock. */
#include "condlif/timer.h"

#include <math.h>
#include <stdio.h>

#include "check.h"

/* Waits (busy) until `s` seconds of the monotonic clock have passed since t0; returns the time. */
static double spin_until(double t0, double s) {
  double t;
  while ((t = cl_timer_now()) - t0 < s) {
  }
  return t;
}

/* |got - want| within 1 % of want and 50 us (the clock readings around a switch). */
static int close_to(double got, double want) {
  return fabs(got - want) <= 0.01 * want + 50e-6;
}

int main(void) {
  cl_timer t;
  cl_timer_init(&t);
  /* two phases of known length, then many short switches */
  double a = cl_timer_now();
  cl_timer_start(&t, CL_PHASE_UPDATE);
  double b = spin_until(a, 0.020);
  cl_timer_start(&t, CL_PHASE_DELIVER);
  double c = spin_until(b, 0.010);
  cl_timer_stop(&t);
  cl_timer_seconds(&t);
  printf("timer: update %.6f s (clock %.6f), deliver %.6f s (clock %.6f)\n",
         t.seconds[CL_PHASE_UPDATE], b - a, t.seconds[CL_PHASE_DELIVER], c - b);
  CHECK_MSG(close_to(t.seconds[CL_PHASE_UPDATE], b - a), "update %.9f s, clock %.9f",
            t.seconds[CL_PHASE_UPDATE], b - a);
  CHECK_MSG(close_to(t.seconds[CL_PHASE_DELIVER], c - b), "deliver %.9f s, clock %.9f",
            t.seconds[CL_PHASE_DELIVER], c - b);
  CHECK(t.seconds[CL_PHASE_BUILD] == 0.0 && t.seconds[CL_PHASE_EXCHANGE] == 0.0 &&
        t.seconds[CL_PHASE_WRITE] == 0.0);
  /* a stop with nothing running changes nothing but the rate's estimate */
  const double u = t.seconds[CL_PHASE_UPDATE];
  cl_timer_stop(&t);
  cl_timer_seconds(&t);
  CHECK_MSG(close_to(t.seconds[CL_PHASE_UPDATE], u), "update %.9f s after a second stop, %.9f",
            t.seconds[CL_PHASE_UPDATE], u);
  /* 2000 switches between two phases, 10 us each: the phases add up to the clock's time */
  const double w0 = t.seconds[CL_PHASE_WRITE], x0 = t.seconds[CL_PHASE_EXCHANGE];
  double s = cl_timer_now(), e = s;
  for (int i = 0; i < 2000; i++) {
    cl_timer_start(&t, i % 2 ? CL_PHASE_WRITE : CL_PHASE_EXCHANGE);
    e = spin_until(e, 10e-6);
  }
  /* read while the last phase runs: counted to now */
  const double *sec = cl_timer_seconds(&t);
  const double e2 = cl_timer_now();
  cl_timer_stop(&t);
  const double sum = (sec[CL_PHASE_WRITE] - w0) + (sec[CL_PHASE_EXCHANGE] - x0);
  printf("timer: 2000 switches, %.6f s charged (clock %.6f)\n", sum, e2 - s);
  CHECK_MSG(close_to(sum, e2 - s), "2000 switches: %.9f s charged, clock %.9f", sum, e2 - s);
  CHECK_MSG(t.seconds[CL_PHASE_WRITE] > 0.3 * (e - s) &&
                t.seconds[CL_PHASE_EXCHANGE] > 0.3 * (e - s),
            "the switches' time split %.9f / %.9f", t.seconds[CL_PHASE_WRITE],
            t.seconds[CL_PHASE_EXCHANGE]);
  if (failures)
    fprintf(stderr, "test_timer: %d check(s) failed\n", failures);
  return failures != 0;
}
