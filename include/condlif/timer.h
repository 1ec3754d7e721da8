/* Named phase timers (wall clock), one set per rank. */
#ifndef CONDLIF_TIMER_H
#define CONDLIF_TIMER_H

enum {
  CL_PHASE_BUILD = 0, /* network construction */
  CL_PHASE_UPDATE,    /* neuron and source update, stimuli */
  CL_PHASE_DELIVER,   /* arriving synapses into their targets' x */
  CL_PHASE_EXCHANGE,  /* MPI spike exchange */
  CL_PHASE_WRITE,     /* recording and output */
  CL_NPHASES
};
extern const char *const cl_phase_names[CL_NPHASES];

typedef struct {
  double seconds[CL_NPHASES];
  double started; /* time the running phase started; < 0 when none runs */
  int running;
} cl_timer;

/* Seconds since an arbitrary fixed point (monotonic). */
double cl_timer_now(void);
void cl_timer_init(cl_timer *t);
/* Starts phase (stops the running one first, charging it). Not collective. */
void cl_timer_start(cl_timer *t, int phase);
/* Stops the running phase, if any. */
void cl_timer_stop(cl_timer *t);

#endif
