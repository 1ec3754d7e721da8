/* The cond_alpha neuron kernel (DESIGN.md §1-2).
 *
 * Scheme, per neuron and step h from t_n = step*h:
 *  - x_r += e * (sum of arriving peak weights); (x_r, g_r) are propagated exactly:
 *    g(t_n + u) = exp(-u/tau) (g + (u/tau) x), x(t_n + u) = exp(-u/tau) x.
 *  - V obeys the linear ODE  C dV/dt = A(t) - G(t) V  with G = g_L + g_ex + g_in and
 *    A = g_L E_L + g_ex E_ex + g_in E_in + I_e + I(t), both known exactly at any time of the
 *    step (I is the quadratic through the given I0, Ih, I1). With z = h G / C, classical RK4
 *    uses A, G at t_n, t_n + h/2 and t_{n+1}. When z <= 1 at all three points, one RK4 step is
 *    a convex combination of V and the three V_inf = A/G (every weight is >= 0 for
 *    z0, zh, z1 in [0, 1]), so V stays inside the range of the reversal potentials, E_L and the
 *    current's V_inf; RK4 is also the more accurate scheme there (at z = 1 its error is about
 *    a fifth of the exponential update's). Above z = 1 the neuron falls back to the
 *    unconditionally stable exponential update V' = V_inf + (V - V_inf) exp(-z) at the midpoint.
 *  - Precise mode: a neuron with V >= V_th at the end of the step spikes at the first root of the
 *    cubic Hermite interpolant of V (values and slopes at both ends); V is reset there and held
 *    until t* + t_ref; the step in which refractoriness ends integrates only its remainder (RK4
 *    or exponential update over the sub-interval, conductances propagated exactly to its
 *    points). At most one spike per step: when t_ref is shorter than the rest of the step, the
 *    remainder is integrated after the reset, and if V ends at or above threshold the next step
 *    fires at its start (t* = t_n), so the rate is capped at one spike per step.
 *    A neuron whose V starts a step at or above V_th (initial value, or a capped second
 *    crossing) spikes at t_n.
 *  - Grid mode: V >= V_th at the end of the step spikes at t_{n+1}; V is reset there and held for
 *    round(t_ref/h) whole steps (NEST's iaf_cond_alpha and Brian2 do the same).
 *  Only V at step ends is checked: a crossing that returns below threshold inside one step is
 *  not seen (NEST's grid-based models behave alike).
 *
 * The step runs over blocks of CL_BLOCK neurons. A first loop without branches (vectorised)
 * integrates every neuron that is neither spiking, nor partly refractory, nor at z > 1, and
 * marks the others in a flag array on the stack, leaving their state untouched; a second pass
 * over the (rare) marked neurons of the block, whose data are still in cache, redoes their step
 * with the general scalar code. The general code performs exactly the same arithmetic for the
 * full-step part, so a neuron's result never depends on its position in the arrays. */
#include "condlif/neuron.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "condlif/error.h"

/* Neurons per block of the two-pass step (flags on the stack, data still in L1 for pass two). */
#define CL_BLOCK 64
/* Largest h G / C_m integrated with RK4 (the convexity bound, see above). */
#define CL_Z_RK4_MAX 1.0

/* a * b + c, fused where the target has a fast FMA. Both passes use it for the same
 * expressions, so they agree to the bit either way. */
#ifdef FP_FAST_FMA
#define MADD(a, b, c) fma((a), (b), (c))
#else
#define MADD(a, b, c) ((a) * (b) + (c))
#endif

/* Indices of the kernel's constants in cl_neuron_kernel.c. */
enum {
  K_AEX,     /* exp(-h/tau_ex) */
  K_AEX_H,   /* exp(-h/(2 tau_ex)) */
  K_AHEX,    /* exp(-h/tau_ex) h/tau_ex */
  K_AHEX_H,  /* exp(-h/(2 tau_ex)) h/(2 tau_ex) */
  K_AIN,     /* exp(-h/tau_in) */
  K_AIN_H,   /* exp(-h/(2 tau_in)) */
  K_AHIN,    /* exp(-h/tau_in) h/tau_in */
  K_AHIN_H,  /* exp(-h/(2 tau_in)) h/(2 tau_in) */
  K_HC,      /* h/C_m (1/nS: multiplies a conductance (nS) into z, a current (pA) into mV) */
  K_ZL,      /* h g_L / C_m */
  K_AL,      /* h (g_L E_L + I_e) / C_m (mV) */
  K_HC_EEX,  /* h E_ex / C_m */
  K_HC_EIN,  /* h E_in / C_m */
  K_VTH0,    /* V_th in precise mode (spike at t_n when V starts there), +inf in grid mode */
  K_NREF,    /* round(t_ref/h): refractory steps in grid mode */
  K_PRECISE, /* 1 in precise mode, 0 in grid mode */
  K_FLUSH,   /* steps between flushes of tiny conductances (see flush_tiny) */
  K_COUNT
};

void cl_neuron_params_default(cl_neuron_params *p) {
  p->C_m = 250.0;
  p->g_L = 16.6667; /* NEST's literal: tau_m = 15 ms */
  p->E_L = -70.0;
  p->E_ex = 0.0;
  p->E_in = -85.0;
  p->V_th = -55.0;
  p->V_reset = -60.0;
  p->t_ref = 2.0;
  p->tau_ex = 0.2;
  p->tau_in = 2.0;
  p->I_e = 0.0;
  p->mode = CL_THRESHOLD_PRECISE;
}

static int bad(const char **bad_key, char *msg, size_t msglen, const char *key, double value,
               const char *expected) {
  *bad_key = key;
  if (msg && msglen)
    snprintf(msg, msglen, "%s = %g given; expected %s", key, value, expected);
  return CL_ERR_USER;
}

int cl_neuron_params_check(const cl_neuron_params *p, double dt, const char **bad_key, char *msg,
                           size_t msglen) {
  const struct {
    const char *key;
    double value;
  } all[] = {{"C_m", p->C_m},         {"g_L", p->g_L},     {"E_L", p->E_L},
             {"E_ex", p->E_ex},       {"E_in", p->E_in},   {"V_th", p->V_th},
             {"V_reset", p->V_reset}, {"t_ref", p->t_ref}, {"tau_ex", p->tau_ex},
             {"tau_in", p->tau_in},   {"I_e", p->I_e},     {"dt", dt}};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
    if (!isfinite(all[i].value))
      return bad(bad_key, msg, msglen, all[i].key, all[i].value, "a finite number");
  if (!(dt > 0))
    return bad(bad_key, msg, msglen, "dt", dt, "a time step > 0 ms");
  if (!(p->C_m > 0))
    return bad(bad_key, msg, msglen, "C_m", p->C_m, "a capacitance > 0 pF");
  if (!(p->g_L > 0))
    return bad(bad_key, msg, msglen, "g_L", p->g_L, "a leak conductance > 0 nS");
  if (!(p->tau_ex > 0))
    return bad(bad_key, msg, msglen, "tau_ex", p->tau_ex, "a time constant > 0 ms");
  if (!(p->tau_in > 0))
    return bad(bad_key, msg, msglen, "tau_in", p->tau_in, "a time constant > 0 ms");
  if (!(p->t_ref >= 0))
    return bad(bad_key, msg, msglen, "t_ref", p->t_ref, "a refractory period >= 0 ms");
  if (!(p->E_in < p->E_ex)) {
    char expect[96];
    snprintf(expect, sizeof expect, "E_in below E_ex (E_ex = %g mV)", p->E_ex);
    return bad(bad_key, msg, msglen, "E_in", p->E_in, expect);
  }
  if (!(p->V_reset < p->V_th)) {
    char expect[96];
    snprintf(expect, sizeof expect, "V_reset below V_th (V_th = %g mV)", p->V_th);
    return bad(bad_key, msg, msglen, "V_reset", p->V_reset, expect);
  }
  if (p->mode != CL_THRESHOLD_PRECISE && p->mode != CL_THRESHOLD_GRID)
    return bad(bad_key, msg, msglen, "mode", (double)p->mode,
               "CL_THRESHOLD_PRECISE or CL_THRESHOLD_GRID");
  return CL_OK;
}

void cl_neuron_kernel_init(cl_neuron_kernel *k, const cl_neuron_params *p, double dt) {
  memset(k, 0, sizeof *k);
  k->p = *p;
  k->dt = dt;
  double *c = k->c;
  c[K_AEX] = exp(-dt / p->tau_ex);
  c[K_AEX_H] = exp(-0.5 * dt / p->tau_ex);
  c[K_AHEX] = c[K_AEX] * (dt / p->tau_ex);
  c[K_AHEX_H] = c[K_AEX_H] * (0.5 * dt / p->tau_ex);
  c[K_AIN] = exp(-dt / p->tau_in);
  c[K_AIN_H] = exp(-0.5 * dt / p->tau_in);
  c[K_AHIN] = c[K_AIN] * (dt / p->tau_in);
  c[K_AHIN_H] = c[K_AIN_H] * (0.5 * dt / p->tau_in);
  c[K_HC] = dt / p->C_m;
  c[K_ZL] = dt * p->g_L / p->C_m;
  c[K_AL] = dt * (p->g_L * p->E_L + p->I_e) / p->C_m;
  c[K_HC_EEX] = dt * p->E_ex / p->C_m;
  c[K_HC_EIN] = dt * p->E_in / p->C_m;
  c[K_VTH0] = p->mode == CL_THRESHOLD_PRECISE ? p->V_th : INFINITY;
  c[K_NREF] = round(p->t_ref / dt);
  c[K_PRECISE] = p->mode == CL_THRESHOLD_PRECISE;
  /* Between flushes a conductance falls at most by exp(-steps h / tau_min) >= exp(-200), so
   * from CL_G_TINY it stays far above the subnormal range (2.2e-308). */
  c[K_FLUSH] = fmin(64.0, fmax(1.0, floor(200.0 * fmin(p->tau_ex, p->tau_in) / dt)));
}

void cl_neuron_state_clear_refractory(cl_neuron_state *s) {
  for (size_t i = 0; i < s->n; i++)
    s->t_ref_end[i] = -INFINITY;
}

/* One RK4 step of L dV/dt = a(s) - b(s) V over s in [0, 1] (a = L A / C in mV, b = L G / C):
 * a, b given at s = 0, 1/2, 1. Shared by both passes so that they agree to the bit. */
static inline double rk4(double V, double a0, double b0, double ah, double bh, double a1,
                         double b1) {
  double k1 = MADD(-b0, V, a0);
  double k2 = MADD(-bh, MADD(0.5, k1, V), ah);
  double k3 = MADD(-bh, MADD(0.5, k2, V), ah);
  double k4 = MADD(-b1, V + k3, a1);
  return MADD(MADD(2.0, k2 + k3, k1 + k4), 1.0 / 6.0, V);
}

/* The full step's coefficients from the conductances at t_n (inputs added): g at t_{n+1} and
 * a, b (without the stimulus) at t_n, t_n + h/2, t_{n+1}. Shared by both passes. */
typedef struct {
  double ge1, gi1;
  double a0, b0, ah, bh, a1, b1;
} full_step;

static inline __attribute__((always_inline)) full_step
full_coefficients(const double *c, double ge, double xe, double gi, double xi) {
  full_step f;
  double geh = MADD(c[K_AHEX_H], xe, c[K_AEX_H] * ge);
  double gih = MADD(c[K_AHIN_H], xi, c[K_AIN_H] * gi);
  f.ge1 = MADD(c[K_AHEX], xe, c[K_AEX] * ge);
  f.gi1 = MADD(c[K_AHIN], xi, c[K_AIN] * gi);
  f.a0 = MADD(c[K_HC_EEX], ge, MADD(c[K_HC_EIN], gi, c[K_AL]));
  f.ah = MADD(c[K_HC_EEX], geh, MADD(c[K_HC_EIN], gih, c[K_AL]));
  f.a1 = MADD(c[K_HC_EEX], f.ge1, MADD(c[K_HC_EIN], f.gi1, c[K_AL]));
  f.b0 = MADD(c[K_HC], ge + gi, c[K_ZL]);
  f.bh = MADD(c[K_HC], geh + gih, c[K_ZL]);
  f.b1 = MADD(c[K_HC], f.ge1 + f.gi1, c[K_ZL]);
  return f;
}

/* Conductances (nS) below this magnitude are set to zero every c[K_FLUSH] steps. Without input
 * a conductance decays into subnormal numbers after some thousand time constants, and
 * arithmetic on those is many times slower; a periodic sweep over the block just updated (still
 * in L1) costs nothing in the step's loop. */
#define CL_G_TINY 1e-200

static inline __attribute__((always_inline)) void flush_tiny(double *restrict g, size_t m) {
  for (size_t j = 0; j < m; j++)
    g[j] = fabs(g[j]) < CL_G_TINY ? 0.0 : g[j];
}

/* Whether a step with these z = b values needs the exponential update. */
static inline _Bool is_huge(double b0, double bh, double b1) {
  return (b0 > CL_Z_RK4_MAX) | (bh > CL_Z_RK4_MAX) | (b1 > CL_Z_RK4_MAX);
}

/* V over one (sub)step: RK4 when z <= CL_Z_RK4_MAX at all three points, else the exponential
 * update with the midpoint's V_inf = a/b and z = b. */
static double advance(double V, double a0, double b0, double ah, double bh, double a1, double b1) {
  if (!is_huge(b0, bh, b1))
    return rk4(V, a0, b0, ah, bh, a1, b1);
  double V_inf = ah / bh;
  return V_inf + (V - V_inf) * exp(-bh);
}

static inline double cubic(const double q[4], double s) {
  return ((q[3] * s + q[2]) * s + q[1]) * s + q[0];
}

/* Smallest s in [0, 1] with q(s) = q0 + q1 s + q2 s^2 + q3 s^3 = 0, given q(0) < 0 <= q(1). */
static double first_root(const double q[4]) {
  /* q'(s) = qa s^2 + qb s + qc. Usually q' > 0 on [0, 1] (q rises through the threshold); else
   * split [0, 1] at the roots of q' into monotone pieces and take the first piece where q
   * changes sign: q has exactly one root there. */
  const double qa = 3.0 * q[3], qb = 2.0 * q[2], qc = q[1];
  const double disc = qb * qb - 4.0 * qa * qc;
  double lo = 0.0, hi = 1.0;
  const int monotone =
      qc > 0.0 && qa + qb + qc > 0.0 && (qa <= 0.0 || disc < 0.0 || qb >= 0.0 || -qb >= 2.0 * qa);
  if (!monotone) {
    double cuts[4] = {0.0, 1.0, 1.0, 1.0}, r[2];
    int ncut = 1, nr = 0;
    if (qa != 0.0) {
      if (disc > 0.0) {
        double qq = -0.5 * (qb + (qb >= 0 ? sqrt(disc) : -sqrt(disc)));
        r[nr++] = qq / qa;
        if (qq != 0.0)
          r[nr++] = qc / qq;
      }
    } else if (qb != 0.0) {
      r[nr++] = -qc / qb;
    }
    if (nr == 2 && r[0] > r[1]) {
      double tmp = r[0];
      r[0] = r[1];
      r[1] = tmp;
    }
    for (int j = 0; j < nr; j++)
      if (r[j] > 0.0 && r[j] < 1.0)
        cuts[ncut++] = r[j];
    cuts[ncut++] = 1.0;
    for (int j = 0; j + 1 < ncut; j++) {
      if (cubic(q, cuts[j + 1]) >= 0.0) {
        lo = cuts[j];
        hi = cuts[j + 1];
        break;
      }
    }
  }
  /* Newton from the secant, safeguarded by bisection on [lo, hi], where q(lo) < 0 <= q(hi).
   * Once a step is below 1e-8 the next iterate is exact to about 1e-16 (quadratic convergence):
   * far below the Hermite error, which is about 1e-6 of the step. */
  double flo = cubic(q, lo), fhi = cubic(q, hi);
  double s = lo - flo * (hi - lo) / (fhi - flo);
  if (!(s > lo && s < hi))
    s = 0.5 * (lo + hi);
  for (int it = 0; it < 60; it++) {
    double f = cubic(q, s);
    if (f == 0.0)
      return s;
    if (f > 0.0)
      hi = s;
    else
      lo = s;
    double next = s - f / ((qa * s + qb) * s + qc);
    if (!(next > lo && next < hi))
      next = 0.5 * (lo + hi);
    if (fabs(next - s) <= 1e-8)
      return next;
    s = next;
  }
  return s;
}

/* The step's data of one neuron for the general path. */
typedef struct {
  double ge, xe, gi, xi; /* conductances at t_n, inputs added */
  double I0, Ih, I1;     /* stimulus at t_n, t_n + h/2, t_{n+1} (pA) */
  full_step f;           /* the full step's coefficients */
} neuron_step;

/* a = L A / C and b = L G / C from the conductances and the stimulus at one time, for a
 * sub-interval with LC = L / C_m. */
static void coefficients(const cl_neuron_params *p, double LC, double ge, double gi, double I,
                         double *a, double *b) {
  *a = LC * (p->g_L * p->E_L + p->I_e + ge * p->E_ex + gi * p->E_in + I);
  *b = LC * (p->g_L + ge + gi);
}

/* The same at time u in the step: the conductances propagated exactly from t_n with the decay
 * factors ee = exp(-u/tau_ex), ei = exp(-u/tau_in); the stimulus from its quadratic. */
static void coefficients_at(const cl_neuron_kernel *k, const neuron_step *d, double u, double LC,
                            double ee, double ei, double *a, double *b) {
  const cl_neuron_params *p = &k->p;
  double s = u / k->dt;
  double ge = ee * (d->ge + (u / p->tau_ex) * d->xe);
  double gi = ei * (d->gi + (u / p->tau_in) * d->xi);
  double I = d->I0 + s * (4.0 * d->Ih - 3.0 * d->I0 - d->I1) +
             s * s * (2.0 * d->I0 - 4.0 * d->Ih + 2.0 * d->I1);
  coefficients(p, LC, ge, gi, I, a, b);
}

/* Advances V from t_n + u to t_{n+1}; *a0, *b0, *a1, *b1 return the coefficients at both ends
 * (for the Hermite slopes). The full step (u = 0) is the vector pass's arithmetic; a partial
 * one needs exp(-u/tau) per receptor (the midpoint's factor is sqrt(exp(-u/tau) exp(-h/tau))). */
static double integrate(const cl_neuron_kernel *k, const neuron_step *d, double u, double V,
                        double *a0, double *b0, double *a1, double *b1) {
  const cl_neuron_params *p = &k->p;
  double ah, bh;
  if (u == 0.0) {
    const double hc = k->c[K_HC];
    *a0 = MADD(hc, d->I0, d->f.a0);
    ah = MADD(hc, d->Ih, d->f.ah);
    *a1 = MADD(hc, d->I1, d->f.a1);
    *b0 = d->f.b0;
    bh = d->f.bh;
    *b1 = d->f.b1;
  } else {
    double LC = fmax(k->dt - u, 0.0) / p->C_m;
    double ee = exp(-u / p->tau_ex), ei = exp(-u / p->tau_in);
    coefficients_at(k, d, u, LC, ee, ei, a0, b0);
    coefficients_at(k, d, 0.5 * (u + k->dt), LC, sqrt(ee * k->c[K_AEX]), sqrt(ei * k->c[K_AIN]),
                    &ah, &bh);
    coefficients(p, LC, d->f.ge1, d->f.gi1, d->I1, a1, b1);
  }
  return advance(V, *a0, *b0, ah, bh, *a1, *b1);
}

/* The general step of neuron i (pass two). Returns 1 and sets *t_spike when it spikes. */
static int step_general(const cl_neuron_kernel *k, cl_neuron_state *st, size_t i, int64_t step,
                        const cl_neuron_input *in, double *t_spike) {
  const double *c = k->c;
  const cl_neuron_params *p = &k->p;
  const double h = k->dt;
  const double t0 = (double)step * h, t1 = (double)(step + 1) * h;
  neuron_step d;
  d.xe = st->x_ex[i];
  d.xi = st->x_in[i];
  if (in->in_ex) {
    d.xe = MADD(M_E, in->in_ex[i], d.xe);
    in->in_ex[i] = 0.0;
  }
  if (in->in_in) {
    d.xi = MADD(M_E, in->in_in[i], d.xi);
    in->in_in[i] = 0.0;
  }
  d.ge = st->g_ex[i];
  d.gi = st->g_in[i];
  d.I0 = in->I0 ? in->I0[i] : 0.0;
  d.Ih = in->I0 ? in->Ih[i] : 0.0;
  d.I1 = in->I0 ? in->I1[i] : 0.0;
  d.f = full_coefficients(c, d.ge, d.xe, d.gi, d.xi);
  st->g_ex[i] = d.f.ge1;
  st->x_ex[i] = c[K_AEX] * d.xe;
  st->g_in[i] = d.f.gi1;
  st->x_in[i] = c[K_AIN] * d.xi;

  double V = st->V_m[i], tre = st->t_ref_end[i];
  const int precise = c[K_PRECISE] != 0.0;
  if (precise ? tre >= t1 : tre > t0)
    return 0;                           /* refractory for the whole step: V stays at V_reset */
  double u = tre > t0 ? tre - t0 : 0.0; /* precise mode: refractoriness ends inside the step */
  int spiked = 0;
  if (precise && V >= p->V_th) { /* starts at threshold: spike at the start of the interval */
    *t_spike = t0 + u;
    spiked = 1;
    V = p->V_reset;
    tre = *t_spike + p->t_ref;
    if (tre >= t1) {
      st->V_m[i] = V;
      st->t_ref_end[i] = tre;
      return 1;
    }
    u = tre - t0;
  }
  double a0, b0, a1, b1;
  double V1 = integrate(k, &d, u, V, &a0, &b0, &a1, &b1);
  if (!spiked && V1 >= p->V_th) {
    spiked = 1;
    if (!precise) {
      *t_spike = t1;
      V1 = p->V_reset;
      tre = (double)(step + 1 + (int64_t)c[K_NREF]) * h;
    } else {
      /* Hermite cubic in s in [0, 1] over [u, h], with slopes times the interval length. */
      double da = V - p->V_th, db = V1 - p->V_th;
      double ma = a0 - b0 * V, mb = a1 - b1 * V1;
      const double q[4] = {da, ma, 3.0 * (db - da) - 2.0 * ma - mb, 2.0 * (da - db) + ma + mb};
      double sroot = first_root(q);
      *t_spike = t0 + (u + sroot * (h - u));
      tre = *t_spike + p->t_ref;
      V1 = p->V_reset;
      if (tre < t1)
        V1 = integrate(k, &d, tre - t0, p->V_reset, &a0, &b0, &a1, &b1);
    }
  }
  st->V_m[i] = V1;
  st->t_ref_end[i] = tre;
  return spiked;
}

/* Pass one over neurons [0, m) of a block (pointers already offset to the block): integrates
 * the common case and writes flag[j] = 1 (state untouched) for the neurons pass two must redo.
 * Returns nonzero when any neuron is flagged. The has_* arguments are constants after inlining,
 * so each input combination gets its own loop. */
static inline __attribute__((always_inline)) int64_t
block_pass(const double *c, double V_th, size_t m, double t0, double t_full, double *restrict V_m,
           double *restrict g_ex, double *restrict x_ex, double *restrict g_in,
           double *restrict x_in, const double *restrict t_ref_end, double *restrict in_ex,
           double *restrict in_in, const double *restrict I0, const double *restrict Ih,
           const double *restrict I1, int64_t *restrict flag, const int has_ex, const int has_in,
           const int has_I) {
  const double aex = c[K_AEX], ain = c[K_AIN], hc = c[K_HC];
  const double vth0 = c[K_VTH0], vth = V_th;
  int64_t any = 0;
  /* The arrays never overlap (restrict is lost when GCC inlines, hence the pragma). */
#pragma GCC ivdep
  for (size_t j = 0; j < m; j++) {
    double ine = has_ex ? in_ex[j] : 0.0;
    double ini = has_in ? in_in[j] : 0.0;
    double xe0 = x_ex[j], xi0 = x_in[j];
    double xe = has_ex ? MADD(M_E, ine, xe0) : xe0;
    double xi = has_in ? MADD(M_E, ini, xi0) : xi0;
    double ge = g_ex[j], gi = g_in[j];
    full_step f = full_coefficients(c, ge, xe, gi, xi);
    if (has_I) {
      f.a0 = MADD(hc, I0[j], f.a0);
      f.ah = MADD(hc, Ih[j], f.ah);
      f.a1 = MADD(hc, I1[j], f.a1);
    }
    double V = V_m[j];
    double tre = t_ref_end[j];
    _Bool refr = tre >= t_full;
    _Bool partial = (tre > t0) & (!refr);
    double Vn = rk4(V, f.a0, f.b0, f.ah, f.bh, f.a1, f.b1);
    _Bool fl = partial | ((!refr) & (is_huge(f.b0, f.bh, f.b1) | (V >= vth0) | (Vn >= vth)));
    Vn = refr ? V : Vn;
    flag[j] = fl;
    any |= fl;
    V_m[j] = fl ? V : Vn;
    g_ex[j] = fl ? ge : f.ge1;
    x_ex[j] = fl ? xe0 : aex * xe;
    g_in[j] = fl ? gi : f.gi1;
    x_in[j] = fl ? xi0 : ain * xi;
    if (has_ex)
      in_ex[j] = fl ? ine : 0.0;
    if (has_in)
      in_in[j] = fl ? ini : 0.0;
  }
  return any;
}

/* The whole step for one combination of inputs (constant has_* after inlining). */
static inline __attribute__((always_inline)) size_t
step_all(const cl_neuron_kernel *k, cl_neuron_state *s, int64_t step, const cl_neuron_input *in,
         uint32_t *spike_idx, double *spike_t, const int has_ex, const int has_in,
         const int has_I) {
  const double t0 = (double)step * k->dt, t1 = (double)(step + 1) * k->dt;
  /* Refractory for the whole step from t_full on; between t0 and t_full it ends inside. */
  const double t_full = k->c[K_PRECISE] != 0.0 ? t1 : nextafter(t0, INFINITY);
  double c[K_COUNT]; /* a local copy, which the stores of pass one provably do not alias */
  memcpy(c, k->c, sizeof c);
  const size_t n = s->n;
  const int flush = step % (int64_t)c[K_FLUSH] == 0;
  size_t nspikes = 0;
  int64_t flag[CL_BLOCK]; /* as wide as a double: one vector lane per neuron in pass one */
  for (size_t b = 0; b < n; b += CL_BLOCK) {
    size_t m = n - b < CL_BLOCK ? n - b : CL_BLOCK;
    int64_t any = block_pass(c, k->p.V_th, m, t0, t_full, s->V_m + b, s->g_ex + b, s->x_ex + b,
                             s->g_in + b, s->x_in + b, s->t_ref_end + b,
                             has_ex ? in->in_ex + b : NULL, has_in ? in->in_in + b : NULL,
                             has_I ? in->I0 + b : NULL, has_I ? in->Ih + b : NULL,
                             has_I ? in->I1 + b : NULL, flag, has_ex, has_in, has_I);
    /* Pass two: the flagged neurons in increasing index. */
    for (size_t j = 0; any && j < m; j++) {
      double ts;
      if (flag[j] && step_general(k, s, b + j, step, in, &ts)) {
        spike_idx[nspikes] = (uint32_t)(b + j);
        spike_t[nspikes] = ts;
        nspikes++;
      }
    }
    if (flush) {
      flush_tiny(s->g_ex + b, m);
      flush_tiny(s->x_ex + b, m);
      flush_tiny(s->g_in + b, m);
      flush_tiny(s->x_in + b, m);
    }
  }
  return nspikes;
}

size_t cl_neuron_step(const cl_neuron_kernel *k, cl_neuron_state *s, int64_t step,
                      const cl_neuron_input *in, uint32_t *spike_idx, double *spike_t) {
  const int ex = in->in_ex != NULL, inh = in->in_in != NULL, cur = in->I0 != NULL;
  switch (ex | inh << 1 | cur << 2) {
  case 0:
    return step_all(k, s, step, in, spike_idx, spike_t, 0, 0, 0);
  case 1:
    return step_all(k, s, step, in, spike_idx, spike_t, 1, 0, 0);
  case 2:
    return step_all(k, s, step, in, spike_idx, spike_t, 0, 1, 0);
  case 3:
    return step_all(k, s, step, in, spike_idx, spike_t, 1, 1, 0);
  case 4:
    return step_all(k, s, step, in, spike_idx, spike_t, 0, 0, 1);
  case 5:
    return step_all(k, s, step, in, spike_idx, spike_t, 1, 0, 1);
  case 6:
    return step_all(k, s, step, in, spike_idx, spike_t, 0, 1, 1);
  default:
    return step_all(k, s, step, in, spike_idx, spike_t, 1, 1, 1);
  }
}
