/* Stimuli, evaluated locally for the neurons of this rank: currents (dc, sinusoidal,
 * piecewise, file time series) and spike input (independent Poisson trains per target,
 * explicit spike times). */
#ifndef CONDLIF_STIMULUS_H
#define CONDLIF_STIMULUS_H

#include <stddef.h>
#include <stdint.h>

#include "condlif/config.h"
#include "condlif/network.h"

typedef struct {
  const cl_stimulus_config *cfg;
  int index;     /* stimulus index in the config */
  cl_pop *pop;   /* target population */
  int all;       /* every local neuron of pop */
  uint64_t n;    /* selected local neurons (when !all) */
  uint64_t *sel; /* their indices within pop's local range (when !all) */
  double *next;  /* POISSON: next event time per selected neuron (ms) */
  uint64_t *draws;
  size_t cursor; /* SPIKES: next spike time */
} cl_stim;

typedef struct {
  size_t n;
  cl_stim *stims;
} cl_stimuli;

/* Resolves the local targets of every stimulus and allocates the current arrays of the
 * populations that get a current. Not collective. */
int cl_stimuli_create(cl_stimuli *st, const cl_config *cfg, cl_network *net);

/* Current of a current stimulus at time t (pA). side < 0: the limit from the left (the
 * value just before t), otherwise the value at t. */
double cl_stimulus_current(const cl_stimulus_config *s, double t, int side);

/* Fills I0, Ih, I1 (pA at t_n, t_n + dt/2, t_n+1) of every population with a current. */
void cl_stimuli_currents(cl_stimuli *st, cl_network *net, int64_t step);

/* Adds the spike input arriving at grid point t_n (events at times in (t_{n-1}, t_n]) to the
 * targets' x_ex or x_in (e w per event, w the peak weight), before step n. */
void cl_stimuli_inject(cl_stimuli *st, cl_network *net, int64_t step);

/* Starts the spike input at step `step` instead of 0 (a run from another run's state), except
 * the stimuli whose state came with the network's (cl_stimulus_config.resumes): Poisson trains
 * begin afresh at t_step or at their start, whichever is later (a Poisson process has no
 * memory), with their streams' counters from step * 2^32 on (not the intervals a run from 0
 * draws), and spike generators skip the times before step's input. */
void cl_stimuli_start_at(cl_stimuli *st, cl_network *net, int64_t step);

void cl_stimuli_destroy(cl_stimuli *st);

#endif
