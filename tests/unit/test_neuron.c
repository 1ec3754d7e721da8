/* neuron: the cond_alpha kernel against the high-precision reference solutions
 * (CL_REFERENCE_DIR, scenarios A, B, C of its README), exact alpha peaks, refractoriness,
 * robustness under huge conductances, parameter checks, and position independence. */
#include "condlif/neuron.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "condlif/error.h"

#include "check.h"

/* ---- reference data ---- */

typedef struct {
  size_t n;
  double *t, *v, *ge, *xe, *gi, *xi;
} trace;

static int read_trace(const char *name, trace *tr) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", CL_REFERENCE_DIR, name);
  FILE *f = fopen(path, "r");
  if (!f) {
    fprintf(stderr, "cannot open %s\n", path);
    failures++;
    return -1;
  }
  char line[512];
  size_t cap = 1024;
  memset(tr, 0, sizeof *tr);
  double **cols[6] = {&tr->t, &tr->v, &tr->ge, &tr->xe, &tr->gi, &tr->xi};
  for (int c = 0; c < 6; c++)
    *cols[c] = malloc(cap * sizeof(double));
  if (!fgets(line, sizeof line, f)) { /* header */
    fclose(f);
    return -1;
  }
  while (fgets(line, sizeof line, f)) {
    double v[6];
    if (sscanf(line, "%lf,%lf,%lf,%lf,%lf,%lf", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
      continue;
    if (tr->n == cap) {
      cap *= 2;
      for (int c = 0; c < 6; c++)
        *cols[c] = realloc(*cols[c], cap * sizeof(double));
    }
    for (int c = 0; c < 6; c++)
      (*cols[c])[tr->n] = v[c];
    tr->n++;
  }
  fclose(f);
  return 0;
}

static void free_trace(trace *tr) {
  free(tr->t);
  free(tr->v);
  free(tr->ge);
  free(tr->xe);
  free(tr->gi);
  free(tr->xi);
}

static size_t read_spikes(const char *name, double *t, size_t cap) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", CL_REFERENCE_DIR, name);
  FILE *f = fopen(path, "r");
  if (!f) {
    fprintf(stderr, "cannot open %s\n", path);
    failures++;
    return 0;
  }
  char line[256];
  size_t n = 0;
  while (fgets(line, sizeof line, f))
    if (line[0] != '#' && n < cap && sscanf(line, "%lf", &t[n]) == 1)
      n++;
  fclose(f);
  return n;
}

/* ---- one-neuron simulations of the scenarios ---- */

typedef struct {
  double t, w;
  int inh;
} input_spike;

/* Inputs of A and B: excitatory 10, 12, ..., 48 ms (20 nS); inhibitory 60, 65, 70 ms (40 nS). */
static size_t ab_inputs(input_spike *in) {
  size_t n = 0;
  for (int j = 0; j < 20; j++)
    in[n++] = (input_spike){10.0 + 2.0 * j, 20.0, 0};
  for (int j = 0; j < 3; j++)
    in[n++] = (input_spike){60.0 + 5.0 * j, 40.0, 1};
  return n;
}

static cl_neuron_params ab_params(void) {
  cl_neuron_params p = {.C_m = 200,
                        .g_L = 10,
                        .E_L = -60,
                        .E_ex = 0,
                        .E_in = -80,
                        .V_th = -50,
                        .V_reset = -60,
                        .t_ref = 5,
                        .tau_ex = 5,
                        .tau_in = 10,
                        .I_e = 0,
                        .mode = CL_THRESHOLD_PRECISE};
  return p;
}

static cl_neuron_params c_params(void) {
  cl_neuron_params p = {.C_m = 198,
                        .g_L = 9.9,
                        .E_L = -70,
                        .E_ex = 0,
                        .E_in = -85,
                        .V_th = -55,
                        .V_reset = -70,
                        .t_ref = 5,
                        .tau_ex = 5,
                        .tau_in = 10,
                        .I_e = 0,
                        .mode = CL_THRESHOLD_PRECISE};
  return p;
}

static double c_current(double t) {
  return 200.0 + 150.0 * sin(2.0 * M_PI * 0.005 * t);
}

/* One neuron with its kernel; the state points into the struct (do not copy it). */
typedef struct {
  cl_neuron_kernel k;
  double V, ge, xe, gi, xi, tre;
  cl_neuron_state s;
} neuron1;

static void neuron1_init(neuron1 *n, const cl_neuron_params *p, double dt, double V0) {
  cl_neuron_kernel_init(&n->k, p, dt);
  n->V = V0;
  n->ge = n->xe = n->gi = n->xi = 0.0;
  n->s = (cl_neuron_state){1, &n->V, &n->ge, &n->xe, &n->gi, &n->xi, &n->tre, 0, NULL, 0, 0, NULL};
  cl_neuron_state_clear_refractory(&n->s);
}

/* The value (nS) at t_step of a conductance variable of n (stored scaled: cl_scale);
 * r = 0 excitatory, 1 inhibitory. */
static double neuron1_value(const neuron1 *n, int r, double stored, int64_t step) {
  return stored * cl_scale_out(&n->k.scale[r], step);
}

/* The same for an x variable (stored times x_unit as well). */
static double neuron1_value_x(const neuron1 *n, int r, double stored, int64_t step) {
  return stored * cl_scale_out_x(&n->k.scale[r], step);
}

/* One step from t_n = step * dt; returns the spike time, or NAN without a spike. */
static double neuron1_step(neuron1 *n, int64_t step, const cl_neuron_input *in) {
  uint32_t idx = 0;
  double ts = NAN;
  size_t ns = cl_neuron_step(&n->k, &n->s, step, in, &idx, &ts);
  CHECK_MSG(ns <= 1 && idx == 0, "step %lld: %zu spikes, index %u", (long long)step, ns, idx);
  /* the step's ends as the kernel computes them (never accumulated) */
  double t0 = (double)step * n->k.dt, t1 = (double)(step + 1) * n->k.dt;
  CHECK_MSG(ns == 0 || (ts >= t0 && ts <= t1), "spike at %.17g outside step [%.17g, %.17g]", ts, t0,
            t1);
  return ns ? ts : NAN;
}

typedef struct {
  size_t nsteps;
  double *v, *ge, *xe, *gi, *xi; /* nsteps + 1 samples at t_k = k dt */
  double spikes[256];
  size_t nspikes;
} run;

static void free_run(run *r) {
  free(r->v);
  free(r->ge);
  free(r->xe);
  free(r->gi);
  free(r->xi);
}

/* Simulates one neuron from V0 for T ms at step dt with the given input spikes (on the grid)
 * and, when sine is set, scenario C's current through I0/Ih/I1. */
static run simulate(const cl_neuron_params *p, double dt, double T, double V0,
                    const input_spike *inputs, size_t ninputs, int sine) {
  const char *key = NULL;
  char msg[256];
  int rc = cl_neuron_params_check(p, dt, &key, msg, sizeof msg);
  CHECK_MSG(rc == CL_OK, "parameters rejected: %s: %s", key ? key : "?", msg);
  neuron1 nr;
  neuron1_init(&nr, p, dt, V0);
  run r = {0};
  r.nsteps = (size_t)llround(T / dt);
  double **cols[5] = {&r.v, &r.ge, &r.xe, &r.gi, &r.xi};
  for (int c = 0; c < 5; c++)
    *cols[c] = calloc(r.nsteps + 1, sizeof(double));
  float in_ex, in_in;
  double I0, Ih, I1;
  cl_neuron_input in = {.in_ex = &in_ex, .in_in = &in_in};
  if (sine) {
    in.I0 = &I0;
    in.Ih = &Ih;
    in.I1 = &I1;
  }
  /* input sums per step: spikes at t_k arrive at the start of step k */
  double *ex_at = calloc(r.nsteps + 1, sizeof(double));
  double *in_at = calloc(r.nsteps + 1, sizeof(double));
  for (size_t j = 0; j < ninputs; j++) {
    size_t step = (size_t)llround(inputs[j].t / dt);
    if (step <= r.nsteps)
      (inputs[j].inh ? in_at : ex_at)[step] += inputs[j].w;
  }
  r.v[0] = V0;
  r.xe[0] = M_E * ex_at[0];
  r.xi[0] = M_E * in_at[0];
  for (size_t step = 0; step < r.nsteps; step++) {
    in_ex = (float)ex_at[step];
    in_in = (float)in_at[step];
    double t0 = (double)step * dt;
    I0 = c_current(t0);
    Ih = c_current(t0 + 0.5 * dt);
    I1 = c_current(t0 + dt);
    double ts = neuron1_step(&nr, (int64_t)step, &in);
    CHECK_MSG(in_ex == 0 && in_in == 0, "inputs not consumed at step %zu", step);
    if (!isnan(ts) && r.nspikes < 256)
      r.spikes[r.nspikes++] = ts;
    r.v[step + 1] = cl_neuron_V(&nr.k, nr.V);
    const int64_t t1 = (int64_t)step + 1;
    r.ge[step + 1] = neuron1_value(&nr, 0, nr.ge, t1);
    r.gi[step + 1] = neuron1_value(&nr, 1, nr.gi, t1);
    /* the reference is right-continuous: its x at t_k includes the jump of spikes at t_k */
    r.xe[step + 1] = neuron1_value_x(&nr, 0, nr.xe, t1) + M_E * ex_at[step + 1];
    r.xi[step + 1] = neuron1_value_x(&nr, 1, nr.xi, t1) + M_E * in_at[step + 1];
  }
  free(ex_at);
  free(in_at);
  return r;
}

/* Largest |V - V_ref| over samples k (reference row k * stride) before t_end; *at: its time. */
static double v_error(const run *r, const trace *tr, size_t stride, double dt, double t_end,
                      double *at) {
  double err = 0;
  for (size_t k = 0; k <= r->nsteps && k * stride < tr->n; k++) {
    double t = (double)k * dt;
    if (t >= t_end)
      break;
    double e = fabs(r->v[k] - tr->v[k * stride]);
    if (e > err) {
      err = e;
      *at = t;
    }
  }
  return err;
}

static double max_abs(const double *x, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; i++)
    m = fmax(m, fabs(x[i]));
  return m;
}

static double col_rel_error(const double *sim, const double *ref, size_t n, size_t stride) {
  double err = 0, scale = max_abs(ref, n);
  for (size_t k = 0; k * stride < n; k++)
    err = fmax(err, fabs(sim[k] - ref[k * stride]));
  return err / scale;
}

static void test_scenario_a(void) {
  trace tr;
  if (read_trace("A_trace.csv", &tr))
    return;
  input_spike inputs[32];
  size_t ni = ab_inputs(inputs);
  cl_neuron_params p = ab_params();
  p.V_th = 1e9; /* threshold disabled */
  double err[2];
  const double dts[2] = {0.1, 0.2};
  for (int d = 0; d < 2; d++) {
    run r = simulate(&p, dts[d], 100.0, -60.0, inputs, ni, 0);
    size_t stride = (size_t)llround(dts[d] / 0.1);
    double at = 0;
    err[d] = v_error(&r, &tr, stride, dts[d], INFINITY, &at);
    printf("A dt=%.1f: max |V error| = %.3e mV (at %.1f ms)\n", dts[d], err[d], at);
    CHECK_MSG(r.nspikes == 0, "A: %zu spikes with the threshold disabled", r.nspikes);
    if (d == 0) {
      CHECK_MSG(err[0] <= 5e-7, "A: max |V error| %.3e mV > 5e-7 at %.1f ms", err[0], at);
      double eg[4] = {col_rel_error(r.ge, tr.ge, tr.n, 1), col_rel_error(r.xe, tr.xe, tr.n, 1),
                      col_rel_error(r.gi, tr.gi, tr.n, 1), col_rel_error(r.xi, tr.xi, tr.n, 1)};
      const char *names[4] = {"g_ex", "x_ex", "g_in", "x_in"};
      for (int c = 0; c < 4; c++) {
        printf("A dt=0.1: %s max relative error %.3e\n", names[c], eg[c]);
        CHECK_MSG(eg[c] <= 1e-9, "A: %s relative error %.3e > 1e-9", names[c], eg[c]);
      }
    }
    free_run(&r);
  }
  printf("A: error ratio dt 0.2 / 0.1 = %.1f\n", err[1] / err[0]);
  CHECK_MSG(err[1] >= 10.0 * err[0], "A: error falls only %.1fx from dt 0.2 to 0.1",
            err[1] / err[0]);
  free_trace(&tr);
}

/* Spike times of a run against the reference; returns the largest time error. */
static double compare_spikes(const char *what, const run *r, const double *ref, size_t nref,
                             double tol) {
  CHECK_MSG(r->nspikes == nref, "%s: %zu spikes, reference has %zu", what, r->nspikes, nref);
  double err = 0;
  for (size_t j = 0; j < r->nspikes && j < nref; j++)
    err = fmax(err, fabs(r->spikes[j] - ref[j]));
  if (tol > 0)
    CHECK_MSG(err <= tol, "%s: spike time error %.3e ms > %.1e", what, err, tol);
  return err;
}

/* V is held at V_reset for t_ref after each spike (precise: samples in (t*, t* + t_ref];
 * grid: round(t_ref/dt) steps after the spike's step) while the conductances evolve. */
static void check_refractory(const char *what, const run *r, const cl_neuron_params *p, double dt,
                             int has_inputs) {
  size_t held = 0, moved = 0;
  for (size_t j = 0; j < r->nspikes; j++) {
    double ts = r->spikes[j];
    double t_end =
        p->mode == CL_THRESHOLD_PRECISE ? ts + p->t_ref : ts + round(p->t_ref / dt) * dt - 1e-9;
    for (size_t k = 1; k <= r->nsteps; k++) {
      double t = (double)k * dt;
      if (t < ts - 1e-12 || t > t_end)
        continue;
      held++;
      CHECK_MSG(r->v[k] == p->V_reset, "%s: V = %.9f at %.1f ms, refractory after spike %.6f", what,
                r->v[k], t, ts);
      if (r->ge[k] != r->ge[k - 1] || r->gi[k] != r->gi[k - 1])
        moved++;
    }
  }
  if (r->nspikes)
    CHECK_MSG(held > 0 && (moved > 0 || !has_inputs),
              "%s: %zu refractory samples, %zu with changing g", what, held, moved);
}

static void test_scenario_bc(void) {
  const struct {
    const char *name, *trace_file, *spikes_file;
    int sine;
    double T, V0;
    size_t nspikes;
  } sc[2] = {{"B", "B_trace.csv", "B_spikes.txt", 0, 200.0, -60.0, 14},
             {"C", "C_trace.csv", "C_spikes.txt", 1, 1000.0, -70.0, 29}};
  input_spike inputs[32];
  for (int c = 0; c < 2; c++) {
    trace tr;
    if (read_trace(sc[c].trace_file, &tr))
      return;
    double ref[64];
    size_t nref = read_spikes(sc[c].spikes_file, ref, 64);
    CHECK_MSG(nref == sc[c].nspikes, "%s: reference has %zu spikes", sc[c].name, nref);
    size_t ni = sc[c].sine ? 0 : ab_inputs(inputs);
    cl_neuron_params p = sc[c].sine ? c_params() : ab_params();
    if (!sc[c].sine)
      p.I_e = 250.0;
    for (int mode = 0; mode < 2; mode++) {
      p.mode = mode ? CL_THRESHOLD_GRID : CL_THRESHOLD_PRECISE;
      const char *mname = mode ? "grid" : "precise";
      char what[64];
      snprintf(what, sizeof what, "%s %s", sc[c].name, mname);
      run r = simulate(&p, 0.1, sc[c].T, sc[c].V0, inputs, ni, sc[c].sine);
      double terr = compare_spikes(what, &r, ref, nref, mode ? 0.0 : 1e-5);
      double at = 0;
      /* precise: the whole trace; grid: before the first spike (afterwards it lags by design) */
      double t_end = mode ? ref[0] : INFINITY;
      double verr = v_error(&r, &tr, 1, 0.1, t_end, &at);
      printf("%s dt=0.1: %zu spikes, max spike time error %.3e ms, max |V error| %.3e mV "
             "(at %.1f ms%s)\n",
             what, r.nspikes, terr, verr, at, mode ? ", before the first spike" : "");
      /* precise: largest right after refractoriness ends, where V rises at ~35 mV/ms and a
       * spike time error of ~2e-7 ms shifts the whole rise */
      CHECK_MSG(verr <= (mode ? 1e-6 : 2e-5), "%s: V error %.3e mV at %.1f ms", what, verr, at);
      check_refractory(what, &r, &p, 0.1, ni > 0);
      free_run(&r);
    }
    free_trace(&tr);
  }
}

/* One spike of weight w: g peaks at exactly w at t = tau (on the grid), x decays as w e. */
static void test_alpha_peak(void) {
  const double w = 7.25, dt = 0.1;
  for (int rec = 0; rec < 2; rec++) {
    cl_neuron_params p;
    cl_neuron_params_default(&p);
    p.tau_ex = 0.2;
    p.tau_in = 2.0;
    p.V_th = 1e9;
    neuron1 nr;
    neuron1_init(&nr, &p, dt, p.E_L);
    float win = (float)w, zero = 0;
    cl_neuron_input in = {.in_ex = rec ? &zero : &win, .in_in = rec ? &win : &zero};
    double gmax = 0, tmax = 0;
    double tau = rec ? p.tau_in : p.tau_ex;
    for (int step = 0; step < 200; step++) {
      neuron1_step(&nr, step, &in);
      double g = neuron1_value(&nr, rec, rec ? nr.gi : nr.ge, step + 1), t = (step + 1) * dt;
      if (g > gmax) {
        gmax = g;
        tmax = t;
      }
      double exact = w * (t / tau) * exp(1 - t / tau);
      CHECK_MSG(fabs(g - exact) <= 1e-12 * w, "%s: g(%.1f) = %.17g, exact %.17g", rec ? "in" : "ex",
                t, g, exact);
    }
    printf("alpha %s: peak %.17g nS at %.1f ms (w = %g, tau = %g)\n", rec ? "in" : "ex", gmax, tmax,
           w, tau);
    CHECK_MSG(fabs(gmax - w) <= 1e-12 * w, "alpha %s: peak %.17g, expected %g", rec ? "in" : "ex",
              gmax, w);
    CHECK_MSG(fabs(tmax - tau) < 1e-9, "alpha %s: peak at %g ms, expected %g", rec ? "in" : "ex",
              tmax, tau);
  }
}

/* The conductances at t (ms) of inputs[0..n): each spike of peak weight w at t_k adds
 * w ((t - t_k)/tau) exp(1 - (t - t_k)/tau) from t_k on. */
static void exact_g(const input_spike *in, size_t n, const cl_neuron_params *p, double t,
                    double *ge, double *gi) {
  *ge = *gi = 0.0;
  for (size_t j = 0; j < n; j++) {
    const double tau = in[j].inh ? p->tau_in : p->tau_ex, s = (t - in[j].t) / tau;
    if (s > 0)
      *(in[j].inh ? gi : ge) += in[j].w * s * exp(1.0 - s);
  }
}

static double dvdt(const input_spike *in, size_t n, const cl_neuron_params *p, double t, double V) {
  double ge, gi;
  exact_g(in, n, p, t, &ge, &gi);
  return (p->g_L * (p->E_L - V) + ge * (p->E_ex - V) + gi * (p->E_in - V)) / p->C_m;
}

/* Two receptors with epochs of different lengths (tau_ex 0.15 ms: 32 steps, tau_in 10 ms: 64),
 * so the kernel's step constants (one set per phase, cl_step_consts) are those of different
 * phases of the two: V against RK4 at a step 100 times finer, with the exact conductances. */
/* RK4's own error here is 2.5e-3 mV (the excitatory conductance changes faster than the step:
 * h/tau_ex = 0.67); step constants of a wrong phase of either receptor give millivolts. */
#define TOL_MIXED 3e-3
static void test_mixed_periods(void) {
  input_spike inputs[32];
  const size_t ni = ab_inputs(inputs);
  cl_neuron_params p = ab_params();
  p.tau_ex = 0.15;
  p.V_th = 1e9;
  const double dt = 0.1, T = 100.0;
  cl_neuron_kernel k;
  cl_neuron_kernel_init(&k, &p, dt);
  CHECK_MSG(k.scale[0].period == 32 && k.scale[1].period == 64,
            "periods %d and %d, expected 32, 64", k.scale[0].period, k.scale[1].period);
  run r = simulate(&p, dt, T, -60.0, inputs, ni, 0);
  const int fine = 100;
  const double H = dt / fine;
  double V = -60.0, err = 0, at = 0;
  for (size_t step = 0; step < r.nsteps; step++) {
    for (int j = 0; j < fine; j++) {
      const double t = ((double)step + (double)j / fine) * dt;
      const double k1 = dvdt(inputs, ni, &p, t, V);
      const double k2 = dvdt(inputs, ni, &p, t + 0.5 * H, V + 0.5 * H * k1);
      const double k3 = dvdt(inputs, ni, &p, t + 0.5 * H, V + 0.5 * H * k2);
      const double k4 = dvdt(inputs, ni, &p, t + H, V + H * k3);
      V += H * (k1 + 2 * k2 + 2 * k3 + k4) / 6;
    }
    const double e = fabs(r.v[step + 1] - V);
    if (e > err) {
      err = e;
      at = (double)(step + 1) * dt;
    }
  }
  printf("mixed epoch periods (tau_ex 0.15, tau_in 10 ms): max |V error| = %.3e mV (at %.1f ms)\n",
         err, at);
  CHECK_MSG(err <= TOL_MIXED, "mixed periods: max |V error| %.3e mV > %.1e at %.1f ms", err,
            TOL_MIXED, at);
  free_run(&r);
}

/* ---- robustness, mixed populations ---- */

static uint64_t splitmix(uint64_t *x) {
  uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
static double uniform(uint64_t *x) {
  return (double)(splitmix(x) >> 11) * 0x1.0p-53;
}

/* Inputs up to 1e5 nS (ex and in, in bursts): V stays finite and inside the range of the
 * reversal potentials, E_L and V_reset, in both modes, without threshold (so that V is driven
 * towards E_ex and E_in) and for several step sizes. */
static void test_robust(void) {
  const size_t n = 200;
  const double dts[3] = {0.01, 0.1, 0.5};
  const char *names[3] = {"precise", "grid", "no threshold"};
  for (int mode = 0; mode < 3; mode++)
    for (int d = 0; d < 3; d++) {
      cl_neuron_params p;
      cl_neuron_params_default(&p);
      p.mode = mode == 1 ? CL_THRESHOLD_GRID : CL_THRESHOLD_PRECISE;
      if (mode == 2)
        p.V_th = 1e9;
      double dt = dts[d];
      cl_neuron_kernel k;
      cl_neuron_kernel_init(&k, &p, dt);
      double lo = fmin(fmin(p.E_in, p.V_reset), p.E_L);
      double hi = fmax(fmax(p.E_ex, p.V_reset), p.E_L);
      double *a = calloc(6 * n, sizeof(double));
      float *iex = calloc(2 * n, sizeof(float)), *iin = iex + n;
      double *V = a, *ge = a + n, *xe = a + 2 * n, *gi = a + 3 * n, *xi = a + 4 * n,
             *tre = a + 5 * n;
      uint32_t *idx = malloc(n * sizeof *idx);
      double *ts = malloc(n * sizeof *ts);
      cl_neuron_state s = {n, V, ge, xe, gi, xi, tre, 0, NULL, 0, 0, NULL};
      cl_neuron_state_clear_refractory(&s);
      uint64_t seed = 12345 + (uint64_t)(10 * mode + d);
      for (size_t i = 0; i < n; i++)
        V[i] = lo + (hi - lo) * uniform(&seed);
      cl_neuron_input in = {.in_ex = iex, .in_in = iin};
      double vmin = INFINITY, vmax = -INFINITY;
      size_t nspikes = 0, bad = 0;
      for (int step = 0; step < 2000; step++) {
        for (size_t i = 0; i < n; i++) {
          /* bursts: neuron-dependent phases of 20 steps with heavy input of either kind */
          int phase = (int)((step / 20 + i) % 4);
          double big = pow(10.0, 5.0 * uniform(&seed)); /* 1 .. 1e5 nS */
          iex[i] = (float)((phase == 0 || phase == 3) && uniform(&seed) < 0.5 ? big : 0.0);
          iin[i] = (float)((phase == 1 || phase == 3) && uniform(&seed) < 0.5 ? big : 0.0);
          if (i % 7 == 0)
            iex[i] = 1e5; /* relentless */
        }
        nspikes += cl_neuron_step(&k, &s, step, &in, idx, ts);
        for (size_t i = 0; i < n; i++) {
          const double v = cl_neuron_V(&k, V[i]); /* NaN while held at V_reset */
          if (!isfinite(v) || v < lo - 1e-9 || v > hi + 1e-9 || !isfinite(ge[i]) ||
              !isfinite(gi[i]))
            bad++;
          vmin = fmin(vmin, v);
          vmax = fmax(vmax, v);
        }
      }
      printf("robust %s dt=%.2f: V in [%.6f, %.6f] (allowed [%g, %g]), %zu spikes\n", names[mode],
             dt, vmin, vmax, lo, hi, nspikes);
      CHECK_MSG(bad == 0, "robust %s dt=%g: %zu neuron-steps with V outside [%g, %g] or not finite",
                names[mode], dt, bad, lo, hi);
      CHECK_MSG(mode == 2 ? nspikes == 0 : nspikes > 0, "robust %s: %zu spikes", names[mode],
                nspikes);
      if (mode == 2)
        CHECK_MSG(vmin < lo + 1.0 && vmax > hi - 1.0,
                  "robust: V in [%g, %g] did not approach the "
                  "reversal potentials",
                  vmin, vmax);
      free(a);
      free(iex);
      free(idx);
      free(ts);
    }
}

static void count_poll(void *ctx) {
  ++*(size_t *)ctx;
}

/* A population of n neurons in every regime (quiet, spiking, refractory, huge conductances,
 * partial refractoriness, current input, t_ref below dt) gives bit for bit the results of each
 * neuron simulated alone: the vector pass and the rare pass agree, and a neuron's result does
 * not depend on its position in the arrays. drive scales the inputs (1: the original mix).
 * Returns the number of spikes. */
static size_t population_vs_single(const char *what, const cl_neuron_params *p, size_t n,
                                   int nsteps, uint64_t seed, double drive) {
  const double dt = 0.1;
  cl_neuron_kernel k;
  cl_neuron_kernel_init(&k, p, dt);
  double *a = calloc(11 * n, sizeof(double));
  double *V = a, *ge = a + n, *xe = a + 2 * n, *gi = a + 3 * n, *xi = a + 4 * n, *tre = a + 5 * n,
         *I0 = a + 8 * n, *Ih = a + 9 * n, *I1 = a + 10 * n;
  float *iex = calloc(2 * n, sizeof(float)), *iin = iex + n; /* a + 6n, a + 7n unused */
  double *single = calloc(11 * n, sizeof(double));           /* the same, each neuron alone */
  uint32_t *idx = malloc(n * sizeof *idx);
  double *ts = malloc(n * sizeof *ts);
  cl_neuron_state s = {n, V, ge, xe, gi, xi, tre, 0, NULL, 0, 0, NULL};
  cl_neuron_state_clear_refractory(&s);
  for (size_t i = 0; i < n; i++) {
    V[i] = -75.0 + 25.0 * uniform(&seed); /* some start above threshold */
    if (i % 11 == 3)
      tre[i] = 0.35 + 0.5 * uniform(&seed); /* refractory at the start */
  }
  cl_neuron_state_import(&k, &s, 0); /* (held: V NaN) */
  memcpy(single, a, 6 * n * sizeof(double));
  size_t polls = 0; /* the poll hook runs every CL_POLL_NEURONS neurons and changes nothing */
  cl_neuron_input in = {.in_ex = iex,
                        .in_in = iin,
                        .I0 = I0,
                        .Ih = Ih,
                        .I1 = I1,
                        .poll = count_poll,
                        .poll_ctx = &polls};
  size_t total = 0, mismatches = 0;
  for (int step = 0; step < nsteps; step++) {
    for (size_t i = 0; i < n; i++) {
      double rate = (double)(i % 5) * 0.15;
      iex[i] = (float)(uniform(&seed) < rate ? drive * 10.0 * uniform(&seed) : 0.0);
      iin[i] = (float)(uniform(&seed) < rate ? 15.0 * uniform(&seed) : 0.0);
      if (i % 13 == 5 && step % 300 < 30)
        iex[i] += 2e4f; /* bursts of huge conductance */
      double amp = drive * (double)(i % 3) * 150.0;
      double t0 = step * dt;
      I0[i] = amp * (1 + sin(0.01 * (double)i * t0));
      Ih[i] = amp * (1 + sin(0.01 * (double)i * (t0 + 0.5 * dt)));
      I1[i] = amp * (1 + sin(0.01 * (double)i * (t0 + dt)));
    }
    double *sv = single;
    for (size_t i = 0; i < n; i++) { /* each neuron alone first (inputs are read-only) */
      float e = iex[i], ii = iin[i];
      cl_neuron_state one = {1,
                             sv + i,
                             sv + n + i,
                             sv + 2 * n + i,
                             sv + 3 * n + i,
                             sv + 4 * n + i,
                             sv + 5 * n + i,
                             0,
                             NULL,
                             0,
                             0,
                             NULL};
      cl_neuron_input in1 = {.in_ex = &e, .in_in = &ii, .I0 = I0 + i, .Ih = Ih + i, .I1 = I1 + i};
      uint32_t id1;
      double t1;
      size_t ns1 = cl_neuron_step(&k, &one, step, &in1, &id1, &t1);
      /* stash the single run's spike (time, or NAN) in its otherwise unused columns */
      sv[6 * n + i] = ns1 ? t1 : NAN;
      CHECK_MSG(ns1 == 0 || id1 == 0, "single neuron: spike index %u", id1);
    }
    size_t ns = cl_neuron_step(&k, &s, step, &in, idx, ts);
    total += ns;
    for (size_t j = 1; j < ns; j++)
      CHECK_MSG(idx[j] > idx[j - 1], "spike list not in increasing index order at step %d", step);
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
      int spiked = j < ns && idx[j] == i;
      double t_pop = spiked ? ts[j++] : NAN;
      double t_one = sv[6 * n + i];
      int same_spike = spiked ? t_one == t_pop : isnan(t_one);
      int same_state = 1; /* to the bit (V is NaN while held) */
      for (int v = 0; v < 6; v++)
        same_state &= memcmp(a + (size_t)v * n + i, sv + (size_t)v * n + i, sizeof(double)) == 0;
      if (!same_spike || !same_state) {
        if (mismatches++ < 5)
          fprintf(stderr,
                  "%s: neuron %zu step %d: population V %.17g spike %.17g, alone V "
                  "%.17g spike %.17g\n",
                  what, i, step, V[i], t_pop, sv[i], t_one);
      }
      CHECK_MSG(iex[i] == 0 && iin[i] == 0, "inputs of neuron %zu not consumed", i);
    }
  }
  printf("population vs single (%s): %zu neurons, %zu spikes, %zu mismatches\n", what, n, total,
         mismatches);
  CHECK_MSG(mismatches == 0, "%s: %zu neuron-steps differ between population and single runs", what,
            mismatches);
  /* one call per CL_POLL_NEURONS neurons passed (the vector pass may stop short of a multiple) */
  const size_t per_step = n / CL_POLL_NEURONS;
  CHECK_MSG(polls <= nsteps * per_step && polls + nsteps >= nsteps * per_step,
            "%s: %zu polls in %d steps of %zu neurons", what, polls, nsteps, n);
  free(a);
  free(iex);
  free(single);
  free(idx);
  free(ts);
  return total;
}

/* A population above CL_PREFETCH_MIN (its pass one prefetches) against the same neurons as two
 * populations below it (no prefetching): the same states and spikes to the bit, with input rows
 * on even steps and without on odd ones (the simulator's case: inputs already in x). */
static void test_prefetch_variant(void) {
  const size_t half = CL_PREFETCH_MIN / 2 + 5, n = 2 * half; /* n > CL_PREFETCH_MIN > half */
  const int nsteps = 40;
  cl_neuron_params p = ab_params();
  cl_neuron_kernel k;
  cl_neuron_kernel_init(&k, &p, 0.1);
  double *a = calloc(12 * n, sizeof(double)), *b = a + 6 * n;
  float *rows = calloc(4 * n, sizeof(float));
  uint32_t *idx = malloc(n * sizeof *idx), *idx2 = malloc(n * sizeof *idx2);
  double *ts = malloc(n * sizeof *ts), *ts2 = malloc(n * sizeof *ts2);
  CHECK(a && rows && idx && idx2 && ts && ts2);
  uint64_t seed = 7;
  cl_neuron_state whole = {n,         a, a + n, a + 2 * n, a + 3 * n, a + 4 * n,
                           a + 5 * n, 0, NULL,  0,         0,         NULL};
  cl_neuron_state_clear_refractory(&whole);
  for (size_t i = 0; i < n; i++)
    a[i] = -75.0 + 25.0 * uniform(&seed);
  memcpy(b, a, 6 * n * sizeof(double));
  cl_neuron_state part[2];
  for (int h = 0; h < 2; h++) {
    const size_t o = (size_t)h * half;
    part[h] = (cl_neuron_state){
        half, b + o, b + n + o, b + 2 * n + o, b + 3 * n + o, b + 4 * n + o, b + 5 * n + o, 0,
        NULL, 0,     0,         NULL};
  }
  size_t spikes = 0, mismatches = 0;
  for (int step = 0; step < nsteps; step++) {
    const int with_rows = step % 2 == 0;
    for (size_t i = 0; i < n; i++) {
      const float e = (float)(uniform(&seed) < 0.2 ? 30.0 * uniform(&seed) : 0.0);
      const float f = (float)(uniform(&seed) < 0.05 ? 20.0 * uniform(&seed) : 0.0);
      if (with_rows) {
        rows[i] = rows[2 * n + i] = e;
        rows[n + i] = rows[3 * n + i] = f;
      } else { /* into x as delivery adds it, in both copies */
        a[2 * n + i] += cl_scale_w(&k.scale[0], step) * e;
        b[2 * n + i] += cl_scale_w(&k.scale[0], step) * e;
      }
    }
    cl_neuron_input in = {.in_ex = with_rows ? rows : NULL, .in_in = with_rows ? rows + n : NULL};
    size_t ns = cl_neuron_step(&k, &whole, step, &in, idx, ts), ns2 = 0;
    for (int h = 0; h < 2; h++) {
      const size_t o = (size_t)h * half;
      cl_neuron_input inh = {.in_ex = with_rows ? rows + 2 * n + o : NULL,
                             .in_in = with_rows ? rows + 3 * n + o : NULL};
      size_t m = cl_neuron_step(&k, &part[h], step, &inh, idx2 + ns2, ts2 + ns2);
      for (size_t j = ns2; j < ns2 + m; j++)
        idx2[j] += (uint32_t)o;
      ns2 += m;
    }
    spikes += ns;
    mismatches += ns != ns2;
    for (size_t j = 0; j < ns && j < ns2; j++)
      mismatches += idx[j] != idx2[j] || ts[j] != ts2[j];
  }
  mismatches += memcmp(a, b, 6 * n * sizeof(double)) != 0;
  printf("prefetching population of %zu against two of %zu: %zu spikes, %zu mismatches\n", n, half,
         spikes, mismatches);
  CHECK_MSG(spikes > 0 && mismatches == 0, "prefetch variant: %zu spikes, %zu mismatches", spikes,
            mismatches);
  free(a);
  free(rows);
  free(idx);
  free(idx2);
  free(ts);
  free(ts2);
}

static void test_population_equals_single(void) {
  for (int mode = 0; mode < 2; mode++)
    for (int t_ref_case = 0; t_ref_case < 2; t_ref_case++) {
      cl_neuron_params p;
      cl_neuron_params_default(&p);
      p.mode = mode ? CL_THRESHOLD_GRID : CL_THRESHOLD_PRECISE;
      p.t_ref = t_ref_case ? 0.04 : 2.0; /* below dt, or several steps */
      char what[64];
      snprintf(what, sizeof what, "%s, t_ref %g", mode ? "grid" : "precise", p.t_ref);
      /* three blocks, not a multiple of any vector width */
      size_t total =
          population_vs_single(what, &p, 157, 3000, 777 + (uint64_t)(2 * mode + t_ref_case), 1.0);
      CHECK_MSG(total > 100, "too few spikes (%zu) to exercise the rare path", total);
    }
  /* E_ex != 0 and a constant I_e (the kernel integrates V - E_ex) */
  for (int mode = 0; mode < 2; mode++) {
    cl_neuron_params p;
    cl_neuron_params_default(&p);
    p.mode = mode ? CL_THRESHOLD_GRID : CL_THRESHOLD_PRECISE;
    p.E_ex = 7.5;
    p.I_e = 120.0;
    size_t total =
        population_vs_single(mode ? "grid, E_ex 7.5, I_e 120" : "precise, E_ex 7.5, I_e 120", &p,
                             61, 2000, 4242 + (uint64_t)mode, 1.0);
    CHECK_MSG(total > 100, "too few spikes (%zu) to exercise the rare path", total);
  }
  /* More neurons than one call of the vector pass handles, so many of them spiking at once that
   * the rare pass runs several times within a step. */
  cl_neuron_params p;
  cl_neuron_params_default(&p);
  p.t_ref = 0.3;
  size_t total = population_vs_single("precise, t_ref 0.3, strong drive", &p, 5003, 150, 99, 20.0);
  CHECK_MSG(total > 150 * 500, "too few spikes (%zu) to fill the rare pass's buffer", total);
  /* enough neurons for the poll hook (which must leave the results alone) */
  cl_neuron_params_default(&p);
  population_vs_single("precise, polled", &p, 3 * CL_POLL_NEURONS + 13, 12, 5, 1.0);
}

/* t_ref below dt: at most one spike per step, a second crossing fires at the next step's
 * start; the rate is capped at 1/dt. With t_ref = 0 the neuron is reset at that start and
 * integrates the whole step from V_reset (with no synaptic input V then ends each step at the
 * exact V_reset-started value, to RK4's error: z = h g_L/C_m = 0.0067); a step that took pass
 * one's result (integrated from the V above threshold) instead let V run up towards
 * V_inf = E_L + I_e/g_L, about 6000 mV, without a reset. */
static void test_short_refractory(void) {
  cl_neuron_params p;
  cl_neuron_params_default(&p);
  p.t_ref = 0.0;
  p.I_e = 1e5; /* crosses threshold several times per step */
  neuron1 nr;
  neuron1_init(&nr, &p, 0.1, p.E_L);
  cl_neuron_input in = {.in_ex = NULL};
  double last = -INFINITY;
  size_t total = 0;
  for (int step = 0; step < 100; step++) {
    double ts = neuron1_step(&nr, step, &in); /* checks: at most one spike, inside the step */
    if (!isnan(ts)) {
      CHECK_MSG(ts > last, "spike at %.12f after %.12f, step %d", ts, last, step);
      last = ts;
      total++;
    }
    if (step >= 1) {
      const double V_inf = p.E_L + p.I_e / p.g_L;
      const double want = V_inf + (p.V_reset - V_inf) * exp(-0.1 * p.g_L / p.C_m);
      CHECK_MSG(fabs(cl_neuron_V(&nr.k, nr.s.V_m[0]) - want) < 1e-9,
                "step %d: V %.12f mV, reset at the start and a "
                "full step give %.12f",
                step, cl_neuron_V(&nr.k, nr.s.V_m[0]), want);
    }
  }
  printf("t_ref = 0, I_e = 1e5 pA: %zu spikes in 100 steps\n", total);
  CHECK_MSG(total >= 99, "rate not capped at one spike per step: %zu spikes in 100 steps", total);
}

/* First spike time of one neuron from a given state, at step dt (precise mode). */
static double first_spike(const cl_neuron_params *p, double dt, double V0, double g_in0, double T) {
  neuron1 nr;
  neuron1_init(&nr, p, dt, V0);
  nr.gi = g_in0;
  cl_neuron_input in = {.in_ex = NULL};
  for (int64_t step = 0; step * dt < T; step++) {
    double ts = neuron1_step(&nr, step, &in);
    if (!isnan(ts))
      return ts;
  }
  return NAN;
}

/* V first dips (a fast-decaying inhibitory conductance) and then rises through threshold
 * inside the first step: the Hermite cubic starts with a negative slope, so the root is searched
 * on its rising piece. The conductance falls by e^-2 within the step, so the scheme's error is
 * larger than in the reference scenarios (measured 5.6e-4 ms). */
static void test_crossing_after_dip(void) {
  cl_neuron_params p;
  cl_neuron_params_default(&p);
  p.tau_in = 0.05;
  p.I_e = 2000.0;
  const double V0 = -55.15, g0 = 100.0;
  double coarse = first_spike(&p, 0.1, V0, g0, 1.0);
  double fine = first_spike(&p, 0.0005, V0, g0, 1.0);
  printf("crossing after a dip: t* = %.9f ms at dt 0.1, %.9f ms at dt 0.0005\n", coarse, fine);
  CHECK_MSG(coarse > 0.0 && coarse < 0.1, "spike at %g ms, expected inside the first step", coarse);
  CHECK_MSG(fabs(coarse - fine) < 2e-3, "spike at %.9f ms, fine steps give %.9f", coarse, fine);
}

/* A conductance left without input decays to exactly zero without passing through subnormal
 * numbers (which would slow the arithmetic down many times). */
static void test_no_subnormals(void) {
  cl_neuron_params p;
  cl_neuron_params_default(&p);
  p.tau_ex = 0.2;
  p.tau_in = 5.0;
  neuron1 nr;
  neuron1_init(&nr, &p, 0.1, p.E_L);
  float iex = 3.0f, iin = 3.0f;
  cl_neuron_input in = {.in_ex = &iex, .in_in = &iin};
  size_t subnormal = 0;
  /* from 3 nS to below 1e-308 takes 710 time constants: 36000 steps for tau_in = 5 ms */
  for (int step = 0; step < 40000; step++) {
    neuron1_step(&nr, step, &in);
    double v[5] = {cl_neuron_V(&nr.k, nr.V), nr.ge, nr.xe, nr.gi, nr.xi};
    for (int j = 0; j < 5; j++)
      if (fpclassify(v[j]) == FP_SUBNORMAL)
        subnormal++;
  }
  CHECK_MSG(subnormal == 0, "%zu subnormal state values", subnormal);
  CHECK_MSG(nr.ge == 0 && nr.xe == 0 && nr.gi == 0 && nr.xi == 0,
            "conductances %g %g %g %g not flushed", nr.ge, nr.xe, nr.gi, nr.xi);
  CHECK_MSG(fabs(nr.V - p.E_L) < 1e-9, "V = %.12f did not relax to E_L", nr.V);
}

static void test_params(void) {
  cl_neuron_params d;
  cl_neuron_params_default(&d);
  CHECK_MSG(d.C_m == 250 && d.g_L == 16.6667 && d.E_L == -70 && d.E_ex == 0 && d.E_in == -85 &&
                d.V_th == -55 && d.V_reset == -60 && d.t_ref == 2 && d.tau_ex == 0.2 &&
                d.tau_in == 2.0 && d.I_e == 0 && d.mode == CL_THRESHOLD_PRECISE,
            "defaults differ from NEST's iaf_cond_alpha");
  const char *key = NULL;
  char msg[256];
  CHECK_MSG(cl_neuron_params_check(&d, 0.1, &key, msg, sizeof msg) == CL_OK, "defaults rejected");
  const struct {
    const char *key;
    size_t off;
    double value;
    double dt;
  } cases[] = {
      {"C_m", offsetof(cl_neuron_params, C_m), 0.0, 0.1},
      {"C_m", offsetof(cl_neuron_params, C_m), -1.0, 0.1},
      {"g_L", offsetof(cl_neuron_params, g_L), 0.0, 0.1},
      {"tau_ex", offsetof(cl_neuron_params, tau_ex), 0.0, 0.1},
      {"tau_in", offsetof(cl_neuron_params, tau_in), -2.0, 0.1},
      {"t_ref", offsetof(cl_neuron_params, t_ref), -0.1, 0.1},
      {"V_reset", offsetof(cl_neuron_params, V_reset), -55.0, 0.1},
      {"V_reset", offsetof(cl_neuron_params, V_reset), -40.0, 0.1},
      {"E_in", offsetof(cl_neuron_params, E_in), 0.0, 0.1},
      {"E_in", offsetof(cl_neuron_params, E_in), 10.0, 0.1},
      {"E_L", offsetof(cl_neuron_params, E_L), NAN, 0.1},
      {"E_ex", offsetof(cl_neuron_params, E_ex), INFINITY, 0.1},
      {"V_th", offsetof(cl_neuron_params, V_th), -INFINITY, 0.1},
      {"I_e", offsetof(cl_neuron_params, I_e), NAN, 0.1},
      {"C_m", offsetof(cl_neuron_params, C_m), INFINITY, 0.1},
      {"dt", 0, 0.0, 0.0},
      {"dt", 0, 0.0, -0.1},
      {"dt", 0, 0.0, NAN},
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    cl_neuron_params p = d;
    if (strcmp(cases[c].key, "dt") != 0)
      *(double *)((char *)&p + cases[c].off) = cases[c].value;
    key = NULL;
    msg[0] = '\0';
    int rc = cl_neuron_params_check(&p, cases[c].dt, &key, msg, sizeof msg);
    CHECK_MSG(rc == CL_ERR_USER, "case %zu (%s): status %d", c, cases[c].key, rc);
    CHECK_MSG(key && strcmp(key, cases[c].key) == 0, "case %zu: bad key %s, expected %s", c,
              key ? key : "(null)", cases[c].key);
    CHECK_MSG(strstr(msg, "given; expected") != NULL && strstr(msg, cases[c].key) != NULL,
              "case %zu: message \"%s\"", c, msg);
  }
  cl_neuron_params p = d;
  p.mode = (cl_threshold_mode)7;
  CHECK_MSG(cl_neuron_params_check(&p, 0.1, &key, msg, sizeof msg) == CL_ERR_USER &&
                strcmp(key, "mode") == 0,
            "an unknown threshold mode was accepted");
  p = d;
  p.t_ref = 0.0;
  CHECK_MSG(cl_neuron_params_check(&p, 0.1, &key, msg, sizeof msg) == CL_OK, "t_ref = 0 rejected");
}

/* No spike is missed by a hair: neurons creep up to V_th in steps of about 1e-10 mV (I_e puts
 * V_inf 1e-7 mV above V_th, 20 ms membrane time constant), so the step that crosses ends a tiny
 * amount above V_th. After every step, every neuron that is not refractory must be below V_th
 * (V_end >= V_th spikes and resets), in both modes. Fails when the vector pass's threshold test
 * sits as little as 1e-9 mV too high (a neuron left above V_th for a step). */
static void test_threshold_hair(void) {
  enum { N = 64 };
  for (int mode = 0; mode < 2; mode++) {
    cl_neuron_params p;
    cl_neuron_params_default(&p);
    p.C_m = 200.0;
    p.g_L = 10.0;
    p.E_L = -60.0;
    p.V_th = -50.0;
    p.V_reset = -60.0;
    p.t_ref = 5.0;
    p.E_ex = mode ? 7.5 : 0.0; /* u = V - E_ex: the test on u must not round the wrong way */
    p.I_e = p.g_L * (p.V_th + 1e-7 - p.E_L);
    p.mode = mode ? CL_THRESHOLD_GRID : CL_THRESHOLD_PRECISE;
    const double dt = 0.1;
    cl_neuron_kernel k;
    cl_neuron_kernel_init(&k, &p, dt);
    double a[6 * N] = {0};
    double *V = a, *tre = a + 5 * N;
    cl_neuron_state s = {N, V, a + N, a + 2 * N, a + 3 * N, a + 4 * N, tre, 0, NULL, 0, 0, NULL};
    cl_neuron_state_clear_refractory(&s);
    for (size_t i = 0; i < N; i++)
      V[i] = p.V_th - 1e-8 - 1e-10 * (double)i;
    cl_neuron_input in = {.in_ex = NULL};
    uint32_t idx[N];
    double ts[N];
    size_t spikes = 0, above = 0;
    for (int64_t step = 0; step < 4000; step++) {
      spikes += cl_neuron_step(&k, &s, step, &in, idx, ts);
      for (size_t i = 0; i < N; i++)
        above += V[i] >= p.V_th; /* (NaN, false, while held) */
    }
    printf("threshold by a hair (%s): %zu spikes, %zu neuron-steps left at or above V_th\n",
           mode ? "grid, E_ex 7.5" : "precise", spikes, above);
    CHECK_MSG(spikes >= N, "threshold by a hair: only %zu spikes", spikes);
    CHECK_MSG(above == 0, "threshold by a hair: %zu neuron-steps at or above V_th", above);
  }
}

/* The exp of pass two's partial intervals (the vector code's, cl_neuron_exp) against libm's:
 * within 2 ulp over its range, exact at 0, and exp(-708) below -708. */
static void test_exp(void) {
  double worst = 0.0, worst_x = 0.0;
  uint64_t state = 12345;
  for (int j = 0; j < 2000000; j++) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    const double u = (double)(state >> 11) * 0x1p-53;
    /* half over the whole range, half over [-1, 0] (the partial intervals' arguments) */
    const double x = j % 2 ? -708.0 + 1417.0 * u : -u;
    const double want = exp(x), got = cl_neuron_exp(x);
    const double ulps = fabs(got - want) / (nextafter(want, INFINITY) - want);
    if (ulps > worst) {
      worst = ulps;
      worst_x = x;
    }
  }
  printf("exp of the partial intervals: max error %.2f ulp (at x = %.17g)\n", worst, worst_x);
  CHECK_MSG(worst <= 2.0, "exp off by %.2f ulp at x = %.17g", worst, worst_x);
  CHECK_MSG(cl_neuron_exp(0.0) == 1.0, "exp(0) = %.17g", cl_neuron_exp(0.0));
  CHECK_MSG(cl_neuron_exp(-1e6) == cl_neuron_exp(-708.0) && cl_neuron_exp(-708.0) > 0.0,
            "exp(-1e6) = %g, exp(-708) = %g", cl_neuron_exp(-1e6), cl_neuron_exp(-708.0));
}

/* The plain form of a state (cl_neuron_state_export, _import): V_reset while refractory and
 * -inf when not; a copy of a running population converted to it and back before every step
 * (at every phase of every refractory period) stays the population to the bit, spikes and all. */
static void test_state_forms(void) {
  cl_neuron_params p;
  cl_neuron_params_default(&p);
  p.t_ref = 1.0;
  p.I_e = 400.0; /* V_inf = -46 mV: regular firing */
  const size_t n = 64;
  const double dt = 0.1;
  cl_neuron_kernel k;
  cl_neuron_kernel_init(&k, &p, dt);
  double *a = calloc(12 * n, sizeof(double)), *b = a + 6 * n;
  cl_neuron_state s = {n,         a, a + n, a + 2 * n, a + 3 * n, a + 4 * n,
                       a + 5 * n, 0, NULL,  0,         0,         NULL};
  cl_neuron_state c = {n,         b, b + n, b + 2 * n, b + 3 * n, b + 4 * n,
                       b + 5 * n, 0, NULL,  0,         0,         NULL};
  cl_neuron_state_clear_refractory(&s);
  uint64_t seed = 77;
  for (size_t i = 0; i < n; i++)
    s.V_m[i] = p.E_L + (p.V_th - p.E_L + 2.0) * uniform(&seed);
  memcpy(b, a, 6 * n * sizeof(double));
  cl_neuron_input in = {.in_ex = NULL};
  uint32_t idx[64], idx2[64];
  double ts[64], ts2[64];
  size_t held = 0, spikes = 0, bad = 0, differ = 0;
  for (int64_t step = 0; step < 400; step++) {
    cl_neuron_state_export(&k, &c);
    for (size_t i = 0; i < n; i++) {
      held += s.V_m[i] != s.V_m[i];
      bad +=
          !(isfinite(c.V_m[i]) && (c.t_ref_end[i] == -INFINITY ||
                                   (c.t_ref_end[i] >= (double)step * dt && c.V_m[i] == p.V_reset)));
    }
    cl_neuron_state_import(&k, &c, step);
    differ += memcmp(a, b, 6 * n * sizeof(double)) != 0;
    for (size_t i = 0; i < n; i++) {
      const double w = step % 3 == 0 ? 0.05 * (double)(i % 7) : 0.0; /* some input */
      s.x_ex[i] += w;
      c.x_ex[i] += w;
    }
    const size_t ns = cl_neuron_step(&k, &s, step, &in, idx, ts);
    const size_t ns2 = cl_neuron_step(&k, &c, step, &in, idx2, ts2);
    spikes += ns;
    differ += ns2 != ns || memcmp(idx, idx2, ns * sizeof *idx) != 0 ||
              memcmp(ts, ts2, ns * sizeof *ts) != 0;
  }
  printf("state forms: %zu spikes, %zu neuron-steps held, %zu plain states wrong, %zu differ\n",
         spikes, held, bad, differ);
  CHECK_MSG(held > 1000 && spikes > 100, "too little activity (%zu held, %zu spikes)", held,
            spikes);
  CHECK_MSG(bad == 0, "%zu neuron-steps with a wrong plain form", bad);
  CHECK_MSG(differ == 0, "%zu steps differ after conversions", differ);
  free(a);
}

/* Twin populations of n neurons over a[12 n] (the second's arrays from a + 6 n), not refractory,
 * V uniform in [lo, hi) drawn from *seed, all else 0: the same state in both. */
static void twin_states(cl_neuron_state s[2], double *a, size_t n, double lo, double hi,
                        uint64_t *seed) {
  memset(a, 0, 12 * n * sizeof *a);
  for (int r = 0; r < 2; r++) {
    double *b = a + 6 * n * (size_t)r;
    s[r] = (cl_neuron_state){n,         b, b + n, b + 2 * n, b + 3 * n, b + 4 * n,
                             b + 5 * n, 0, NULL,  0,         0,         NULL};
  }
  cl_neuron_state_clear_refractory(&s[0]);
  for (size_t i = 0; i < n; i++)
    a[i] = lo + (hi - lo) * uniform(seed);
  memcpy(a + 6 * n, a, 6 * n * sizeof *a);
}

/* Steps the twins of twin_states, s[r] with k[r], the same input; adds the first's spikes to
 * *spikes and returns 1 when their spikes or states differ in any bit. idx and ts hold 2 n. */
static int twin_step(const cl_neuron_kernel *const k[2], cl_neuron_state s[2], int64_t step,
                     const cl_neuron_input *in, uint32_t *idx, double *ts, size_t *spikes) {
  const size_t n = s[0].n;
  size_t ns[2];
  for (int r = 0; r < 2; r++)
    ns[r] = cl_neuron_step(k[r], &s[r], step, in, idx + r * n, ts + r * n);
  *spikes += ns[0];
  return ns[0] != ns[1] || memcmp(idx, idx + n, ns[0] * sizeof *idx) != 0 ||
         memcmp(ts, ts + n, ns[0] * sizeof *ts) != 0 ||
         memcmp(s[0].V_m, s[1].V_m, 6 * n * sizeof *s[0].V_m) != 0;
}

/* Runs n neurons for `steps` steps twice, once as the simulator does and once with `settled`
 * cleared before every step (the start-of-step threshold test always on); drive: 0, a current
 * alternating per step between 1e5 pA (a crossing, and the rest of the step from V_reset crossing
 * again: V ends above threshold when t_ref is short) and -6e4 pA (a step that starts there and
 * ends below threshold: only the start test sees the spike), or 1, random
 * input to x and I_e 400 pA. Counts the runs' differences (state or spikes) and the neuron-steps
 * of the first run that ended at or above V_th. */
static void settled_runs(const cl_neuron_params *p, int drive, size_t *differ, size_t *above,
                         size_t *spikes) {
  enum { N = 16, STEPS = 300 };
  const double dt = 0.1;
  cl_neuron_kernel k;
  cl_neuron_kernel_init(&k, p, dt);
  const cl_neuron_kernel *const ks[2] = {&k, &k};
  double a[12 * N], I[N];
  cl_neuron_state s[2];
  uint64_t seed = 5;
  twin_states(s, a, N, p->E_L, p->V_th, &seed);
  cl_neuron_input in = {.in_ex = NULL};
  if (drive == 0)
    in.I0 = in.Ih = in.I1 = I;
  uint32_t idx[2 * N];
  double ts[2 * N];
  *differ = *above = *spikes = 0;
  for (int64_t step = 0; step < STEPS; step++) {
    for (size_t i = 0; i < N; i++) {
      I[i] = (step + (int64_t)i) % 2 == 0 ? 1e5 : -6e4;
      if (drive == 1 && step % 3 == 0)
        for (int r = 0; r < 2; r++)
          s[r].x_ex[i] += 0.3 * (double)(i % 5);
    }
    s[1].settled = 0;
    *differ += (size_t)twin_step(ks, s, step, &in, idx, ts, spikes);
    for (size_t i = 0; i < N; i++)
      *above += a[i] >= p->V_th; /* (false for NaN: held) */
  }
}

/* cl_neuron_state.settled: the kernel skips the start-of-step threshold test after a step of a
 * population whose neurons cannot end a step above threshold (t_ref at least two steps, or grid
 * mode), with the same results as with the test; with a shorter t_ref neurons do end steps above
 * threshold and the test stays on; cl_neuron_state_import turns it back on. */
static void test_settled(void) {
  cl_neuron_params p = c_params();
  size_t differ, above, spikes;
  p.t_ref = 0.0;
  settled_runs(&p, 0, &differ, &above, &spikes);
  printf("settled, t_ref 0: %zu spikes, %zu neuron-steps ended above threshold, %zu differ\n",
         spikes, above, differ);
  CHECK_MSG(above > 100 && differ == 0, "t_ref 0: %zu above threshold, %zu differ", above, differ);
  const double trefs[2] = {0.2, 2.0};
  for (int j = 0; j < 2; j++)
    for (int mode = 0; mode < 2; mode++) {
      p.t_ref = trefs[j];
      p.mode = mode ? CL_THRESHOLD_GRID : CL_THRESHOLD_PRECISE;
      for (int drive = 0; drive < 2; drive++) {
        settled_runs(&p, drive, &differ, &above, &spikes);
        CHECK_MSG(spikes > 50 && above == 0 && differ == 0,
                  "t_ref %g, %s, drive %d: %zu spikes, %zu above threshold, %zu differ", p.t_ref,
                  mode ? "grid" : "precise", drive, spikes, above, differ);
      }
    }
  /* a neuron put above threshold through the plain form fires at the step's start, although
   * its V ends the step below (the leak alone) */
  p = c_params();
  neuron1 nr;
  neuron1_init(&nr, &p, 0.1, p.E_L);
  cl_neuron_input in = {.in_ex = NULL};
  for (int64_t step = 0; step < 5; step++)
    neuron1_step(&nr, step, &in);
  CHECK(nr.s.settled);
  cl_neuron_state_export(&nr.k, &nr.s);
  nr.V = p.V_th + 0.01;
  cl_neuron_state_import(&nr.k, &nr.s, 5);
  const double t = neuron1_step(&nr, 5, &in);
  CHECK_MSG(t == 0.5, "a neuron imported above threshold fired at %.17g, not at t_5 = 0.5", t);
}

/* Random input to the twins of twin_states for `step`, the same to both (x in each kernel's
 * scale): excitatory (up to ex_max nS, a third of the neurons) and inhibitory (up to 8 nS, a
 * tenth), and one huge excitatory input every 50 steps to every seventh neuron (h G / C_m > 1).
 * Returns the number of huge inputs. */
static size_t twin_input(const cl_neuron_kernel *const k[2], cl_neuron_state s[2], int64_t step,
                         double ex_max, uint64_t *seed) {
  size_t huge = 0;
  for (size_t i = 0; i < s[0].n; i++) {
    const double ex = uniform(seed) < 0.3 ? ex_max * uniform(seed) : 0.0;
    const double inh = uniform(seed) < 0.1 ? 8.0 * uniform(seed) : 0.0;
    const double big = step % 50 == 7 && i % 7 == 3 ? 5e4 : 0.0;
    huge += big > 0;
    for (int r = 0; r < 2; r++) {
      s[r].x_ex[i] += cl_scale_w(&k[r]->scale[0], step) * (ex + big);
      s[r].x_in[i] += cl_scale_w(&k[r]->scale[1], step) * inh;
    }
  }
  return huge;
}

/* Pass one's variant for E_ex = 0 (no E_ex to subtract and add back, the flag from sign bits)
 * against the general one: E_ex = 1e-300 takes the general pass but changes no number (it is far
 * below the ulp of every V, E_L, E_in and V_th), so the two populations must agree to the bit,
 * state and spikes, under drives that raise each of the flag's terms: crossings, ends of
 * refractoriness (inside the step and at its start), steps that start above threshold (t_ref
 * 0, precise mode), conductances with z > 1 (one huge input every 50 steps), held neurons
 * throughout. Returns the number of steps that differ; counts spikes and z > 1 steps. */
static size_t e0_runs(cl_neuron_params p, double t_ref, cl_threshold_mode mode, size_t *spikes,
                      size_t *huge) {
  enum { N = 40, STEPS = 600 };
  const double dt = 0.1;
  cl_neuron_kernel k[2];
  for (int r = 0; r < 2; r++) {
    p.E_ex = r ? 1e-300 : 0.0;
    p.t_ref = t_ref;
    p.mode = mode;
    cl_neuron_kernel_init(&k[r], &p, dt);
  }
  const cl_neuron_kernel *const ks[2] = {&k[0], &k[1]};
  double a[12 * N], I[N];
  cl_neuron_state s[2];
  uint64_t seed = 11;
  twin_states(s, a, N, p.E_L, p.V_th + 2.0, &seed); /* some start above V_th */
  cl_neuron_input in = {.in_ex = NULL, .I0 = I, .Ih = I, .I1 = I};
  uint32_t idx[2 * N];
  double ts[2 * N];
  size_t differ = 0;
  *spikes = *huge = 0;
  for (int64_t step = 0; step < STEPS; step++) {
    for (size_t i = 0; i < N; i++)
      I[i] = i % 4 == 0 ? ((step + (int64_t)i) % 2 == 0 ? 1e5 : -6e4) : 300.0 * (double)(i % 3);
    *huge += twin_input(ks, s, step, 3.0, &seed);
    differ += (size_t)twin_step(ks, s, step, &in, idx, ts, spikes);
  }
  return differ;
}

static void test_e0_variant(void) {
  const double trefs[3] = {0.0, 0.25, 2.0};
  for (int j = 0; j < 3; j++)
    for (int mode = 0; mode < 2; mode++) {
      size_t spikes, huge;
      const cl_threshold_mode m = mode ? CL_THRESHOLD_GRID : CL_THRESHOLD_PRECISE;
      const size_t differ = e0_runs(c_params(), trefs[j], m, &spikes, &huge);
      CHECK_MSG(differ == 0 && spikes > 500 && huge > 0,
                "E_ex 0 against 1e-300, t_ref %g, %s: %zu steps differ (%zu spikes)", trefs[j],
                mode ? "grid" : "precise", differ, spikes);
    }
}

/* The input of step `step` to the twin tests below: now and then (step 40 and every 97th after
 * it) a current, I[i] = 200 (i mod 3) pA for the n neurons; else none. Returns whether there
 * is one. */
static int twin_current(int64_t step, double *I, size_t n, cl_neuron_input *in) {
  *in = (cl_neuron_input){.in_ex = NULL};
  if (step % 97 != 40)
    return 0;
  in->I0 = in->Ih = in->I1 = I;
  for (size_t i = 0; i < n; i++)
    I[i] = 200.0 * (double)(i % 3);
  return 1;
}

/* cl_neuron_state.k1: a population that keeps each step's K1 for the next (carried within
 * epochs) against its twin that forms K1 every step (k1_set cleared before each; it keeps K1
 * too, for the comparison): the same state, spikes and K1 to the bit (a K1 one ulp off seldom
 * moves V), through crossings, ends of refractoriness, starts above threshold (t_ref 0),
 * z > 1 (a huge input every 50 steps), epoch ends (period 64 and 32 here), steps with a current
 * (K1 formed, not kept) and a conversion to the plain form and back with V changed in between
 * (cl_neuron_state_import: K1 formed again), in a population whose size is not a multiple of
 * the vector width. Returns the number of steps that differ; counts spikes and carried steps. */
static size_t k1_runs(const cl_neuron_params *p, size_t *spikes, size_t *carried) {
  enum { N = 43, STEPS = 700 };
  const double dt = 0.1;
  cl_neuron_kernel k;
  cl_neuron_kernel_init(&k, p, dt);
  const cl_neuron_kernel *const ks[2] = {&k, &k};
  double a[12 * N], I[N], k1[2][N];
  cl_neuron_state s[2];
  uint64_t seed = 23;
  twin_states(s, a, N, p->E_L, p->V_th + 2.0, &seed); /* some start above V_th */
  s[0].k1 = k1[0];
  s[1].k1 = k1[1];
  uint32_t idx[2 * N];
  double ts[2 * N];
  size_t differ = 0;
  *spikes = *carried = 0;
  for (int64_t step = 0; step < STEPS; step++) {
    cl_neuron_input in;
    const int current = twin_current(step, I, N, &in);
    twin_input(ks, s, step, 12.0, &seed);
    if (step == 350) /* V changed through the plain form: K1 must be formed again */
      for (int r = 0; r < 2; r++) {
        cl_neuron_state_export(&k, &s[r]);
        for (size_t i = 0; i < N; i += 5)
          s[r].V_m[i] += 0.25;
        cl_neuron_state_import(&k, &s[r], step);
      }
    *carried += s[0].k1_set && s[0].k1_step == step;
    s[1].k1_set = 0;
    const int d = twin_step(ks, s, step, &in, idx, ts, spikes);
    differ += (size_t)(d || (!current && memcmp(k1[0], k1[1], sizeof k1[0]) != 0));
  }
  return differ;
}

/* The cases of the twin tests below: case c (0 <= c < TWIN_CASES) has E_ex 0 (the e0 pass
 * variant) or 5 mV (the general one), t_ref 0 (starts above threshold), 0.25 (ends inside a
 * step) or 2 ms, and either threshold mode; returns its parameters and names it in `what`. */
enum { TWIN_CASES = 12 };
static cl_neuron_params twin_case(int c, char *what, size_t len) {
  const double trefs[3] = {0.0, 0.25, 2.0};
  cl_neuron_params p = c_params();
  p.E_ex = c / 6 ? 5.0 : 0.0;
  p.t_ref = trefs[c / 2 % 3];
  p.mode = c % 2 ? CL_THRESHOLD_GRID : CL_THRESHOLD_PRECISE;
  snprintf(what, len, "E_ex %g, t_ref %g, %s", p.E_ex, p.t_ref, c % 2 ? "grid" : "precise");
  return p;
}

static void test_carried_k1(void) {
  for (int c = 0; c < TWIN_CASES; c++) {
    char what[64];
    const cl_neuron_params p = twin_case(c, what, sizeof what);
    size_t spikes, carried;
    const size_t differ = k1_runs(&p, &spikes, &carried);
    CHECK_MSG(differ == 0 && spikes > 500 && carried > 500,
              "K1 carried, %s: %zu steps differ (%zu spikes, %zu steps carried)", what, differ,
              spikes, carried);
  }
}

/* cl_neuron_state.tre_min: a population with the bounds (pass one tests a group for ends of
 * refractoriness only where its bound is below the step's end) against its twin without them
 * (every vector tested): the same state and spikes to the bit, through crossings, ends of
 * refractoriness inside a step and at its start, starts above threshold (t_ref 0), z > 1,
 * steps with a current, a conversion to the plain form and back (bounds -inf) and ends written
 * from outside (bounds lowered as neuron.h asks), some far off in groups without input (where
 * pass one's own bound has to find them), in a population whose size is not a multiple of the
 * vector width. After every step each bound must be at most its group's least
 * t_ref_end (a bound above it would skip an end); counts the steps of whole groups whose
 * bound is exact, which the fast test needs. Returns the number of steps that differ. */
static size_t tre_min_runs(const cl_neuron_params *p, size_t *spikes, size_t *exact,
                           size_t *above) {
  enum { N = 43, G = (N + CL_TRE_GROUP - 1) / CL_TRE_GROUP, QUIET = 24, STEPS = 700 };
  const double dt = 0.1;
  cl_neuron_kernel k;
  cl_neuron_kernel_init(&k, p, dt);
  const cl_neuron_kernel *const ks[2] = {&k, &k};
  double a[12 * N], I[N], bound[G];
  cl_neuron_state s[2];
  uint64_t seed = 29;
  twin_states(s, a, N, p->E_L, p->V_th + 2.0, &seed); /* some start above V_th */
  s[0].tre_min = bound;
  cl_neuron_state_clear_refractory(&s[0]);
  uint32_t idx[2 * N];
  double ts[2 * N];
  size_t differ = 0;
  *spikes = *exact = *above = 0;
  for (int64_t step = 0; step < STEPS; step++) {
    cl_neuron_input in;
    twin_current(step, I, N, &in);
    twin_input(ks, s, step, 12.0, &seed);
    for (size_t i = QUIET; i < N; i++) /* the last groups without input: their bounds settle */
      for (int r = 0; r < 2; r++)
        s[r].x_ex[i] = s[r].x_in[i] = 0.0;
    if (step == 350) /* V and ends changed through the plain form (some far off) */
      for (int r = 0; r < 2; r++) {
        cl_neuron_state_export(&k, &s[r]);
        for (size_t i = 0; i < N; i += 5)
          s[r].V_m[i] += 0.25;
        for (size_t i = 2; i < N; i += 9)
          s[r].t_ref_end[i] = (double)step * dt + 0.05 * (double)(i % 4) + (i >= QUIET);
        cl_neuron_state_import(&k, &s[r], step);
      }
    if (step == 500) /* ends written directly (held from now), the bounds lowered */
      for (size_t i = 1; i < N; i += 7)
        for (int r = 0; r < 2; r++) {
          s[r].V_m[i] = NAN;
          s[r].t_ref_end[i] = (double)step * dt + 0.03 * (double)(i % 5) + 0.5 * (i >= QUIET);
          if (s[r].tre_min)
            s[r].tre_min[i / CL_TRE_GROUP] = -INFINITY;
        }
    differ += (size_t)twin_step(ks, s, step, &in, idx, ts, spikes);
    for (size_t g = 0; g < G; g++) {
      double m = INFINITY;
      for (size_t i = g * CL_TRE_GROUP; i < N && i < (g + 1) * CL_TRE_GROUP; i++)
        m = fmin(m, s[0].t_ref_end[i]);
      *above += bound[g] > m;
      *exact += bound[g] == m && (g + 1) * CL_TRE_GROUP <= N; /* (the tail's may stay low) */
    }
  }
  return differ;
}

static void test_tre_min(void) {
  for (int c = 0; c < TWIN_CASES; c++) {
    char what[64];
    const cl_neuron_params p = twin_case(c, what, sizeof what);
    size_t spikes, exact, above;
    const size_t differ = tre_min_runs(&p, &spikes, &exact, &above);
    enum { GROUP_STEPS = 5 * 700 }; /* (of whole groups) */
    if (c == 2)
      printf("tre_min (%s): %zu spikes, %zu of %d group-steps exact, %zu bounds too high, %zu "
             "steps differ\n",
             what, spikes, exact, GROUP_STEPS, above, differ);
    CHECK_MSG(differ == 0 && above == 0 && spikes > 500 && exact > GROUP_STEPS * 9 / 10,
              "tre_min, %s: %zu steps differ, %zu bounds too high, %zu of %d exact (%zu spikes)",
              what, differ, above, exact, GROUP_STEPS, spikes);
  }
}

/* cl_neuron_state_alloc: zeroed arrays, none refractory, k1 and tre_min (bounds +inf) only when
 * resident, each array's start at its own offset modulo 4 KiB, 512 bytes or more from every
 * other's (either way round), no overlaps, and the block freed through V_m (leak checks in the
 * sanitizer build). */
static void test_state_alloc(void) {
  const size_t sizes[4] = {1, 1000, 4000, 100003};
  for (int j = 0; j < 4; j++)
    for (int resident = 0; resident < 2; resident++) {
      const size_t n = sizes[j], groups = (n + CL_TRE_GROUP - 1) / CL_TRE_GROUP;
      cl_neuron_state s;
      CHECK(cl_neuron_state_alloc(&s, n, resident) == CL_OK);
      CHECK(s.n == n && !s.settled && !s.k1_set && (s.k1 != NULL) == resident &&
            (s.tre_min != NULL) == resident);
      const double *arr[8] = {s.V_m, s.g_ex, s.x_ex, s.g_in, s.x_in, s.t_ref_end, s.k1, s.tre_min};
      const size_t len[8] = {n, n, n, n, n, n, n, groups};
      const int m = resident ? 8 : 6;
      size_t bad = 0;
      for (int a = 0; a < m; a++) {
        for (size_t i = 0; i < len[a]; i++)
          bad += arr[a][i] != (a == 5 || a == 7 ? INFINITY : 0.0);
        for (int b = 0; b < m; b++) {
          const size_t d = ((uintptr_t)arr[a] - (uintptr_t)arr[b]) % 4096;
          bad += a != b && (d < 512 || d > 4096 - 512);
          bad += a != b && arr[a] < arr[b] && arr[a] + len[a] > arr[b]; /* overlap */
        }
      }
      CHECK_MSG(bad == 0, "n %zu, resident %d: %zu wrong values or placements", n, resident, bad);
      free(s.V_m);
    }
}

int main(void) {
  test_params();
  test_state_alloc();
  test_exp();
  test_state_forms();
  test_settled();
  test_e0_variant();
  test_carried_k1();
  test_tre_min();
  test_alpha_peak();
  test_mixed_periods();
  test_scenario_a();
  test_scenario_bc();
  test_robust();
  test_short_refractory();
  test_no_subnormals();
  test_crossing_after_dip();
  test_threshold_hair();
  test_population_equals_single();
  test_prefetch_variant();
  if (failures)
    fprintf(stderr, "test_neuron: %d check(s) failed\n", failures);
  return failures != 0;
}
