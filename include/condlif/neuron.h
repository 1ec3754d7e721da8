/* The cond_alpha neuron: parameters, propagator constants and the step kernel.
 *
 * Pure numerics: no MPI, no HDF5, no config parsing. Model and scheme: DESIGN.md §1-2.
 * Units throughout: ms, mV, pF, nS, pA. */
#ifndef CONDLIF_NEURON_H
#define CONDLIF_NEURON_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
  CL_THRESHOLD_PRECISE = 0, /* Hermite crossing time, reset and refractoriness from it */
  CL_THRESHOLD_GRID = 1,    /* spike at the end of the step, refractoriness in whole steps */
} cl_threshold_mode;

typedef struct {
  double C_m;     /* pF */
  double g_L;     /* nS */
  double E_L;     /* mV */
  double E_ex;    /* mV */
  double E_in;    /* mV */
  double V_th;    /* mV */
  double V_reset; /* mV */
  double t_ref;   /* ms */
  double tau_ex;  /* ms */
  double tau_in;  /* ms */
  double I_e;     /* pA */
  cl_threshold_mode mode;
} cl_neuron_params;

/* Fills p with the defaults documented in config/README.md (NEST's iaf_cond_alpha). */
void cl_neuron_params_default(cl_neuron_params *p);

/* Checks that p is consistent for time step dt (ms). On failure returns CL_ERR_USER, sets
 * *bad_key to the name of the offending parameter ("C_m", "tau_ex", ..., or "dt") and writes a
 * one-line explanation (value given, what was expected) into msg. Does not record an error
 * (cl_error_set): the caller adds file:line. Not collective. */
int cl_neuron_params_check(const cl_neuron_params *p, double dt, const char **bad_key,
                           char *msg, size_t msglen);

/* Precomputed constants of one population for one dt (computed once). */
typedef struct {
  cl_neuron_params p;
  double dt;
  /* filled by cl_neuron_kernel_init; opaque to callers */
  double c[32];
} cl_neuron_kernel;

/* Computes the propagator constants. p must have passed cl_neuron_params_check. */
void cl_neuron_kernel_init(cl_neuron_kernel *k, const cl_neuron_params *p, double dt);

/* Structure-of-arrays state of n neurons; arrays owned by the caller. */
typedef struct {
  size_t n;
  double *V_m;       /* mV */
  double *g_ex;      /* nS */
  double *x_ex;      /* nS (auxiliary alpha variable) */
  double *g_in;      /* nS */
  double *x_in;      /* nS */
  double *t_ref_end; /* ms: absolute time refractoriness ends; -INFINITY when not refractory */
} cl_neuron_state;

/* Sets every neuron's refractory end to "not refractory". */
void cl_neuron_state_clear_refractory(cl_neuron_state *s);

/* Inputs of one step for the n neurons of a state. */
typedef struct {
  /* Sums of peak weights (nS) of spikes arriving at t_n, per neuron (an input row); read
   * and set to zero by the step. Either may be NULL: no input, or the caller has added it to
   * x already (x_r += e w per spike, as the simulator's delivery does). */
  float *in_ex;
  float *in_in;
  /* External current (pA, in addition to I_e) at t_n, t_n + dt/2 and t_n + dt; NULL when the
   * population has none. Inside the step the kernel uses the quadratic through these. */
  const double *I0;
  const double *Ih;
  const double *I1;
} cl_neuron_input;

/* Advances every neuron from t_n = step*dt to t_{n+1}. Neurons that spike are listed in
 * spike_idx (index within the state) with their spike time in spike_t (ms; the Hermite
 * crossing time in precise mode, t_{n+1} in grid mode), in increasing index order; both
 * arrays must hold s->n entries (a neuron spikes at most once per step). Returns the number
 * of spikes. Not collective; allocates nothing. */
size_t cl_neuron_step(const cl_neuron_kernel *k, cl_neuron_state *s, int64_t step,
                      const cl_neuron_input *in, uint32_t *spike_idx, double *spike_t);

#endif
