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
int cl_neuron_params_check(const cl_neuron_params *p, double dt, const char **bad_key, char *msg,
                           size_t msglen);

/* Epochs of the scaled conductances are at most this many steps long (a power of two). */
#define CL_SCALE_PERIOD_MAX 64

/* How the state arrays hold one receptor's conductance g and auxiliary variable x (decay time
 * tau): scaled by exp((t - t_e)/tau), where the epoch start t_e is the last multiple of
 * `period` steps at or before t, and x also by x_unit = dt/(2 tau). Between inputs the stored
 * X is constant and the scaled g grows linearly, g(t_n + u) = exp(-(t_n + u - t_e)/tau)
 * (G + (2u/dt) X): over a step the kernel's propagation is two additions of X (to the
 * midpoint and the end), and x is not rewritten every step; the kernel renormalises at the
 * end of each epoch (DESIGN.md §2 propagates (x, g) exactly; this is the same propagator in a
 * moving frame, see doc/design.md). The period, a power of two (j = step mod period is a
 * mask), keeps the growth within an epoch below e^32. Who adds to x or reads g and x goes
 * through the functions below. */
typedef struct {
  int period;
  double x_unit;                     /* dt/(2 tau): x is stored times this (and the scale) */
  double w_mul[CL_SCALE_PERIOD_MAX]; /* e exp(j dt/tau) x_unit: x += w_mul[j] w, w a peak weight */
  double decay[2 * CL_SCALE_PERIOD_MAX + 1]; /* exp(-k dt/(2 tau)) */
} cl_scale;

/* The scale of a receptor with decay time tau (ms) at step dt (ms). Deterministic: the same
 * tau and dt give the same tables (delivery and the kernel must agree to the bit). */
void cl_scale_init(cl_scale *s, double tau, double dt);

/* The factor for a peak weight (nS) arriving at t_step: x_stored += cl_scale_w(s, step) * w. */
static inline double cl_scale_w(const cl_scale *s, int64_t step) {
  return s->w_mul[(uint64_t)step & (uint64_t)(s->period - 1)];
}

/* The factor from a stored g at t_step to its value (nS): value = stored * factor. */
static inline double cl_scale_out(const cl_scale *s, int64_t step) {
  return s->decay[2 * ((uint64_t)step & (uint64_t)(s->period - 1))];
}

/* The same for a stored x. */
static inline double cl_scale_out_x(const cl_scale *s, int64_t step) {
  return cl_scale_out(s, step) / s->x_unit;
}

/* The kernel's constants of one step that depend on its place in the epochs (neuron.c: the
 * factors from the stored conductances to their values, folded into the coefficients); filled by
 * cl_neuron_kernel_init, opaque to callers. */
typedef struct {
  double ce[3], ci[3], ai[3], de[3], di[3];
  double wex, win, end_ex, end_in;
} cl_step_consts;

/* Precomputed constants of one population for one dt (computed once). */
typedef struct {
  cl_neuron_params p;
  double dt;
  cl_scale scale[2]; /* of the excitatory and the inhibitory conductance */
  /* filled by cl_neuron_kernel_init; opaque to callers */
  double c[32];
  int n_phases;                              /* the longer of the two periods */
  cl_step_consts phase[CL_SCALE_PERIOD_MAX]; /* of step n: phase[n mod n_phases] */
} cl_neuron_kernel;

/* Computes the propagator constants. p must have passed cl_neuron_params_check. */
void cl_neuron_kernel_init(cl_neuron_kernel *k, const cl_neuron_params *p, double dt);

/* Whether two kernels step neurons alike (the same parameters and dt): one cl_neuron_step over
 * the neurons of both then gives each neuron, to the bit, what its own kernel would. */
int cl_neuron_kernel_same(const cl_neuron_kernel *a, const cl_neuron_kernel *b);

/* Structure-of-arrays state of n neurons; arrays owned by the caller. The conductance
 * variables are stored scaled (see cl_scale): at t_n, g_ex[i] * cl_scale_out(&k->scale[0], n)
 * is g_ex in nS, x_ex[i] * cl_scale_out_x(&k->scale[0], n) is x_ex. At step 0 (an epoch start)
 * g is stored as it is and x times x_unit.
 * Refractoriness (the kernel's form): a neuron held at V_reset after a spike has V_m = NaN (the
 * kernel's vector pass then needs no refractory test: NaN stays NaN and never compares true) and
 * t_ref_end the time its refractoriness ends; every other neuron has t_ref_end = +INFINITY. A NaN
 * V_m with t_ref_end = +INFINITY is held for ever (padding). cl_neuron_V reads V_m; files hold
 * the plain form (cl_neuron_state_export, _import). */
typedef struct {
  size_t n;
  double *V_m;       /* mV; NaN while held at V_reset */
  double *g_ex;      /* nS, scaled */
  double *x_ex;      /* nS (auxiliary alpha variable), scaled, times x_unit */
  double *g_in;      /* nS, scaled */
  double *x_in;      /* nS, scaled, times x_unit */
  double *t_ref_end; /* ms: the end of a held neuron's refractoriness; +INFINITY for the others */
  /* Set by cl_neuron_step when no neuron can start the next step at or above V_th (every step of
   * a population whose refractoriness outlasts the step of its spike, see there), which spares
   * the kernel that test; 0 (as a state is initialised) is always correct. Whatever writes V_m
   * other than the kernel sets it to 0 (cl_neuron_state_import does). */
  int settled;
  /* Optional (NULL: none), n entries, caller-owned: each neuron's first RK4 stage of the next
   * step (K1 = alpha0 - beta0 u, neuron.c), which cl_neuron_step forms at the end of a step
   * from the values it has at hand; the next step then loads it instead of forming alpha0 and
   * beta0 (three FMAs and the stage's own), to the bit the same number. k1_step is the step
   * that k1 is for, valid while k1_set; the kernel sets both. Whatever writes V_m, g_ex or g_in
   * other than the kernel sets k1_set to 0 (cl_neuron_state_import does); x_ex, x_in and
   * t_ref_end do not enter K1. */
  double *k1;
  int k1_set;
  int64_t k1_step;
  /* Optional (NULL: none), (n + 7) / 8 entries, caller-owned: for each group of eight neurons
   * (8 g to 8 g + 7) a lower bound of their t_ref_end. Pass one tests a vector's neurons for an
   * end of refractoriness in the step only where the bound is below the step's end, in a branch
   * that resolves early, instead of within the flag that resolves after the RK4 stages
   * (neuron.c). The kernel keeps the bounds; whatever else writes t_ref_end sets its neurons'
   * bounds to -INFINITY or lower (cl_neuron_state_import does; cl_neuron_state_clear_refractory
   * sets them to +INFINITY with the ends). A state of a view must start at a multiple of 8 of
   * the bounds' owner. */
  double *tre_min;
} cl_neuron_state;

/* Neurons per entry of cl_neuron_state.tre_min. */
#define CL_TRE_GROUP 8

/* Whether the neuron states of a rank, n entries over all its populations, stay in the L2 cache
 * (sysconf; 1 MiB where unknown) with seven arrays of doubles: the simulator then gives them k1
 * and tre_min. Beyond that the kernel streams its arrays from further out, and k1's traffic
 * costs more than the operations it saves, and so do the misses on t_ref_end that pass one no
 * longer loads where tre_min lets it skip the refractory term (neuron.c). */
int cl_neuron_state_resident(uint64_t n);

/* Allocates the arrays of a state of n neurons in one zeroed block, none refractory (t_ref_end
 * +inf), and points *s at them (n set, the flags 0); with `resident` (see above) also k1 and
 * tre_min (bounds +inf). The arrays of doubles start at distinct offsets modulo 4 KiB, 512 bytes
 * apart: a load of one array then never matches a recent store to another in the 12 address
 * bits the core compares first (a false dependency that slowed the kernel by up to 30 %,
 * neuron.c). free(s->V_m) frees the block. Returns CL_ERR_MEM (recorded) when out of memory, *s
 * then empty. Not collective. */
int cl_neuron_state_alloc(cl_neuron_state *s, size_t n, int resident);

/* Sets every neuron's refractory end to "not refractory" (V_m must be a number), and the
 * bounds of tre_min where there is one. */
void cl_neuron_state_clear_refractory(cl_neuron_state *s);

/* V_m of a neuron as stored (NaN while held) as the membrane potential: V_reset while held. */
static inline double cl_neuron_V(const cl_neuron_kernel *k, double v) {
  return v == v ? v : k->p.V_reset;
}

/* The plain form of a state, for files (checkpoints): V_m = V_reset while refractory, t_ref_end
 * the end of the refractoriness or -INFINITY when none. _export converts the kernel's form in
 * place, _import converts back at the start of step `step` (a plain state is held when its
 * t_ref_end >= t_step; earlier ends are past; the bounds of tre_min become -INFINITY). A round
 * trip gives the state back bit for bit; _import also reads the plain states of earlier
 * versions. */
void cl_neuron_state_export(const cl_neuron_kernel *k, cl_neuron_state *s);
void cl_neuron_state_import(const cl_neuron_kernel *k, cl_neuron_state *s, int64_t step);

/* Inputs of one step for the n neurons of a state. */
typedef struct {
  /* Sums of peak weights (nS) of spikes arriving at t_n, per neuron (an input row); read
   * and set to zero by the step. Either may be NULL: no input, or the caller has added it to
   * x already (x_r += cl_scale_w(&k->scale[r], n) w per spike, as the simulator's delivery
   * does). */
  float *in_ex;
  float *in_in;
  /* External current (pA, in addition to I_e) at t_n, t_n + dt/2 and t_n + dt; NULL when the
   * population has none. Inside the step the kernel uses the quadratic through these. */
  const double *I0;
  const double *Ih;
  const double *I1;
  /* When not NULL, called with poll_ctx after every CL_POLL_NEURONS neurons (the simulator
   * lets MPI progress a spike exchange in flight). */
  void (*poll)(void *poll_ctx);
  void *poll_ctx;
} cl_neuron_input;

/* Neurons between two calls of cl_neuron_input.poll: some 10 us of work. */
#define CL_POLL_NEURONS 16384
/* cl_neuron_step prefetches the state ahead in populations of more than this many neurons,
 * whose arrays leave the cache (neuron.c); the results are the same either way. */
#define CL_PREFETCH_MIN 300000

/* Advances every neuron from t_n = step*dt to t_{n+1}. Neurons that spike are listed in
 * spike_idx (index within the state) with their spike time in spike_t (ms; the Hermite
 * crossing time in precise mode, t_{n+1} in grid mode), in increasing index order; both
 * arrays must hold s->n entries (a neuron spikes at most once per step). Returns the number
 * of spikes. Not collective; allocates nothing. */
size_t cl_neuron_step(const cl_neuron_kernel *k, cl_neuron_state *s, int64_t step,
                      const cl_neuron_input *in, uint32_t *spike_idx, double *spike_t);

/* The exp that cl_neuron_step takes for the partial intervals of a step (the vector code's, in
 * one lane), for tests: within 2 ulp of libm's for -708 <= x <= 709, exp(-708) below. */
double cl_neuron_exp(double x);

#endif
