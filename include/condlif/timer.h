/* Named phase timers (wall clock), one set per rank. */
#ifndef CONDLIF_TIMER_H
#define CONDLIF_TIMER_H

#include <stdint.h>

enum {
  CL_PHASE_BUILD = 0, /* network construction */
  CL_PHASE_UPDATE,    /* neuron and source update, stimuli */
  CL_PHASE_DELIVER,   /* arriving synapses into their targets' x */
  CL_PHASE_EXCHANGE,  /* MPI spike exchange */
  CL_PHASE_WRITE,     /* recording and output */
  CL_NPHASES
};
extern const char *const cl_phase_names[CL_NPHASES];

/* The simulation switches phases twice a step, so a switch reads a cheap counter (the CPU's
 * time-stamp counter where it runs at a constant rate, else the monotonic clock in ns) and the
 * counts become seconds in cl_timer_seconds, at the counter's rate measured against the
 * monotonic clock since cl_timer_init. */
typedef struct {
  double seconds[CL_NPHASES]; /* filled by cl_timer_seconds */
  uint64_t ticks[CL_NPHASES];
  uint64_t started; /* count at which the running phase started */
  int running;      /* < 0 when none runs */
  uint64_t tick0;   /* count and monotonic time at cl_timer_init */
  double sec0;
} cl_timer;

/* Seconds since an arbitrary fixed point (monotonic). */
double cl_timer_now(void);
void cl_timer_init(cl_timer *t);
/* Starts phase (stops the running one first, charging it). Not collective. */
void cl_timer_start(cl_timer *t, int phase);
/* Stops the running phase, if any. */
void cl_timer_stop(cl_timer *t);
/* Each phase's seconds so far (t->seconds, brought up to date; a running phase counts to now). */
const double *cl_timer_seconds(cl_timer *t);

#endif
