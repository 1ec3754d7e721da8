#include "condlif/timer.h"

#include <time.h>

const char *const cl_phase_names[CL_NPHASES] = {"build", "update", "deliver", "exchange", "write"};

double cl_timer_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void cl_timer_init(cl_timer *t) {
  for (int i = 0; i < CL_NPHASES; i++)
    t->seconds[i] = 0.0;
  t->running = -1;
  t->started = -1.0;
}

void cl_timer_stop(cl_timer *t) {
  if (t->running >= 0)
    t->seconds[t->running] += cl_timer_now() - t->started;
  t->running = -1;
}

void cl_timer_start(cl_timer *t, int phase) {
  double now = cl_timer_now();
  if (t->running >= 0)
    t->seconds[t->running] += now - t->started;
  t->running = phase;
  t->started = now;
}
