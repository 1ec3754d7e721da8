/* The cond_alpha neuron kernel (DESIGN.md §1-2).
 *
 * Scheme, per neuron and step h from t_n = step*h:
 *  - x_r += e * (sum of arriving peak weights); (x_r, g_r) are propagated exactly:
 *    g(t_n + u) = exp(-u/tau) (g + (u/tau) x), x(t_n + u) = exp(-u/tau) x. The state holds
 *    them scaled by exp((t - t_e)/tau) for an epoch start t_e, and x also by h/(2 tau)
 *    (cl_scale in neuron.h): then X is constant between inputs and G(t_n + u) = G + (2u/h) X,
 *    the midpoint's G + X and the end's (G + X) + X (two additions, for the add pipes; with x
 *    stored in nS each took a multiplication more, on the FMA pipes, the kernel's bottleneck:
 *    bench_neuron COBA 4000 on Zen 4 0.975 -> 0.918 ns per neuron-step), and the factors
 *    exp(-(t - t_e)/tau) back to nS are per step, folded into the step's constants (stepc). At
 *    the end of an epoch (at most 64 steps) a sweep multiplies the stored values back. Against
 *    propagating (x, g) in nS every step this saves, per neuron and step, two multiplications,
 *    two FMA-pipe operations net, three additions and the store of both x (bench_neuron COBA
 *    at N = 4000: 0.669 -> 0.634 ns per neuron-step, medians of 5 interleaved runs).
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
 * Arithmetic form. V is integrated as u = V - E_ex, so that du/dt = (A' - G u)/C with
 * A' = g_L (E_L - E_ex) + g_in (E_in - E_ex) + I_e + I: the excitatory conductance then enters
 * through G alone, which saves one FMA per evaluation point. Over an interval of length L the
 * coefficients are kept halved, alpha = L A' / (2 C) and beta = L G / (2 C), so that RK4's
 * half-step stage values need no multiplication by 1/2:
 *    K1 = alpha0 - beta0 u,         K2 = alpha_h - beta_h (u + K1),
 *    K3 = alpha_h - beta_h (u + K2), K4 = alpha1 - beta1 (u + 2 K3),
 *    u' = u + (K1 + 2 K2 + 2 K3 + K4) / 3,
 * which is classical RK4 with k_i = 2 K_i (see rk4() for the order of the operations). z <= 1
 * reads beta <= 1/2 (exact: halving is exact).
 *
 * Implementation: two passes.
 *  - Pass one (the vector pass) runs over the neurons CL_W at a time (explicit SIMD, see the
 *    layer below) and, without any branch per neuron, propagates the conductances, clears the
 *    input row, integrates the full step with RK4 and stores the results of every neuron
 *    (V only for those not refractory all step). It also forms, with a few max operations, a
 *    "score" per neuron that is positive exactly when the neuron needs the general path: not
 *    refractory for the whole step and (refractoriness ends inside the step, or z > 1 at one of
 *    the three points, or V >= V_th at the end, or at the start in precise mode). When a vector
 *    has such a neuron (a rare, well predicted branch), its state at t_n (inputs added) and its
 *    RK4 result go to a small save area.
 *  - Pass two (the rare pass) finishes each saved neuron, in increasing index, with scalar code
 *    (exponential update, Hermite crossing, reset, partial intervals) and overwrites its V and
 *    refractory end. For the full step it uses pass one's RK4 result and recomputes the
 *    coefficients with full_coefs(), the scalar twin of pass one's few operations, so a
 *    neuron's result is the same bit for bit whichever path handles it and whatever its
 *    position (SIMD lanes are independent). The conductances and x of a flagged neuron are
 *    those pass one stored: both paths compute them identically.
 *  The vector pass runs over chunks of at most CL_CHUNK neurons and stops early when the save
 *  area is full; pass two then runs on data that is still in cache. The last n % CL_W neurons
 *  go through the same vector code on small padded copies.
 *
 * Cost, AVX-512 (bench/bench_neuron.c): 35 vector operations per 8 neurons, 16 of them
 * multiplications or FMAs, 14 additions or subtractions, 2 max and 3 compares; about 20 cycles
 * per vector on a Zen 4 core, plus some 25-50 ns per neuron taken by pass two (two per spike
 * in precise mode: the spike and the end of refractoriness). Zen 4 issues FMAs,
 * multiplications and compares (also integer compares into mask registers) to one pair of
 * pipes, one 512-bit operation per cycle, and additions and max to the other pair, so the
 * FMA-pipe operations (19) bound the loop and additions are nearly free: the conductances'
 * midpoint and end and the RK4 sum use additions where FMAs were (bench_neuron COBA at N =
 * 4000 on Zen 4, medians of 3 interleaved runs: 1.07-1.13 -> 0.96-0.97 ns per neuron-step),
 * x is stored times h/(2 tau) (0.975 -> 0.918), the z > 1 test takes beta1 alone
 * (0.918 -> 0.89). Tried and dropped: the flag from compares, or from sign bits with integer
 * logic, instead of the max and subtractions (slower); the flag's last compare folded into the
 * max (18 + 18 operations instead of 19 + 16: no faster); beta1 and alpha1 kept per neuron
 * for the next step's beta0 and alpha0, equal to the bit but for the first step of an epoch
 * (3 FMAs fewer, two arrays more to load and store: 0.89 -> 0.93 at N = 4000, 0.92 -> 1.15 at
 * 40 000); pass one without its branch (flag bits written per vector, the flagged lanes'
 * stores masked so that they keep their state at t_n, pass two evaluating those vectors
 * again: fastest steps 0.75 -> 0.88; a mispredicted branch and save cost some 17 ns per
 * flagged vector, measured by flagging random vectors); AVX2 on the same core (1.54). */
#include "condlif/neuron.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "condlif/error.h"

/* Largest beta = h G / (2 C_m) integrated with RK4 (z = 1, the convexity bound, see above). */
#define CL_BETA_RK4_MAX 0.5
/* Neurons per call of the vector pass (its data, 384 KB, stay in L2 for pass two and the
 * renormalisation), and vectors with flagged neurons held in the save area before pass two
 * runs: pass two's fixed cost per call counts (bench_neuron COBA, medians of 3 interleaved
 * runs: 2048 and 16 -> 8192 and 32, 0.89-0.92 -> 0.88 ns per neuron-step at N = 4000, 0.91-0.92
 * -> 0.89 at 40 000; 512 and 16: 0.92-0.94). */
#define CL_CHUNK 8192
#define CL_SAVE 32
/* Elements ahead at which pass one prefetches the state and the input rows (prefetch_ahead),
 * in populations of more than CL_PREFETCH_MIN neurons (neuron.h). Below that their arrays (48 bytes
 * per neuron and more) stay in the last-level cache, the hardware prefetchers keep up, and the
 * prefetch instructions only take load slots (Zen 4, bench_neuron COBA, medians of 3
 * interleaved runs: 0.877 -> 0.852 ns per neuron-step at N = 4000, 0.896 -> 0.870 at 40 000;
 * at 200 000, 9.6 MB, not slower without them in 6 interleaved runs). */
#define CL_PREFETCH 128

/* a * b + c, fused where the target has a fast FMA (glibc's FP_FAST_FMA, which Clang leaves
 * undefined, or the compiler's __FMA__: fma() is then one instruction). The vector layer's
 * v_fma is fused exactly when this is, so that scalar and vector code agree to the bit (and
 * CMakeLists.txt turns off the compiler's own contraction of a * b + c). */
#if defined(FP_FAST_FMA) || defined(__FMA__)
#define CL_FAST_FMA 1
#define MADD(a, b, c) fma((a), (b), (c))
#else
#define MADD(a, b, c) ((a) * (b) + (c))
#endif

/* ---- SIMD layer: CL_W doubles per vector ----
 * Explicit vectors instead of auto-vectorisation, because pass one needs what a vectorised
 * loop cannot express: one branch per vector on "any lane flagged" instead of a flag array and
 * a blend on every store. The operators + - * act lane-wise on vd (GCC/Clang vector types, or
 * plain doubles in the scalar fallback); v_fma(a, b, c) = a b + c and v_fnma(a, b, c) = c - a b
 * are fused exactly when MADD is; v_max returns b when a lane compares false (also for NaN),
 * like x86's MAXPD; v_lt gives a lane mask; v_store_masked(p, m, x) stores the lanes of x
 * where m is set and leaves the others; v_bits_gt(m, a, b) has bit j set when lane j of m is
 * set and a > b there; v_loadf loads CL_W floats as doubles and v_zerof stores CL_W float
 * zeros (the input rows). */
#if defined(__AVX512F__) && defined(CL_FAST_FMA)
#include <immintrin.h>
#define CL_W 8
typedef __m512d vd;
typedef __mmask8 vmask;
static inline vd v_set(double x) {
  return _mm512_set1_pd(x);
}
static inline vd v_load(const double *p) {
  return _mm512_loadu_pd(p);
}
static inline void v_store(double *p, vd x) {
  _mm512_storeu_pd(p, x);
}
static inline vd v_loadf(const float *p) {
  return _mm512_cvtps_pd(_mm256_loadu_ps(p));
}
static inline void v_zerof(float *p) {
  _mm256_storeu_ps(p, _mm256_setzero_ps());
}
static inline vd v_fma(vd a, vd b, vd c) {
  return _mm512_fmadd_pd(a, b, c);
}
static inline vd v_fnma(vd a, vd b, vd c) {
  return _mm512_fnmadd_pd(a, b, c);
}
static inline vd v_max(vd a, vd b) {
  return _mm512_max_pd(a, b);
}
static inline vmask v_lt(vd a, vd b) {
  return _mm512_cmp_pd_mask(a, b, _CMP_LT_OQ);
}
static inline unsigned v_bits_gt(vmask m, vd a, vd b) {
  return _mm512_mask_cmp_pd_mask(m, a, b, _CMP_GT_OQ);
}
static inline void v_store_masked(double *p, vmask m, vd x) {
  _mm512_mask_storeu_pd(p, m, x);
}
#elif defined(__AVX2__) && defined(__FMA__) && defined(CL_FAST_FMA)
#include <immintrin.h>
#define CL_W 4
typedef __m256d vd;
typedef __m256d vmask;
static inline vd v_set(double x) {
  return _mm256_set1_pd(x);
}
static inline vd v_load(const double *p) {
  return _mm256_loadu_pd(p);
}
static inline void v_store(double *p, vd x) {
  _mm256_storeu_pd(p, x);
}
static inline vd v_loadf(const float *p) {
  return _mm256_cvtps_pd(_mm_loadu_ps(p));
}
static inline void v_zerof(float *p) {
  _mm_storeu_ps(p, _mm_setzero_ps());
}
static inline vd v_fma(vd a, vd b, vd c) {
  return _mm256_fmadd_pd(a, b, c);
}
static inline vd v_fnma(vd a, vd b, vd c) {
  return _mm256_fnmadd_pd(a, b, c);
}
static inline vd v_max(vd a, vd b) {
  return _mm256_max_pd(a, b);
}
static inline vmask v_lt(vd a, vd b) {
  return _mm256_cmp_pd(a, b, _CMP_LT_OQ);
}
static inline unsigned v_bits_gt(vmask m, vd a, vd b) {
  return (unsigned)_mm256_movemask_pd(_mm256_and_pd(m, _mm256_cmp_pd(a, b, _CMP_GT_OQ)));
}
static inline void v_store_masked(double *p, vmask m, vd x) {
  v_store(p, _mm256_blendv_pd(v_load(p), x, m));
}
#else
/* Portable fallback: one neuron per "vector", the same code path and the same arithmetic. */
#define CL_W 1
typedef double vd;
typedef int vmask;
static inline vd v_set(double x) {
  return x;
}
static inline vd v_load(const double *p) {
  return *p;
}
static inline void v_store(double *p, vd x) {
  *p = x;
}
static inline vd v_loadf(const float *p) {
  return (double)*p;
}
static inline void v_zerof(float *p) {
  *p = 0.0f;
}
static inline vd v_fma(vd a, vd b, vd c) {
  return MADD(a, b, c);
}
static inline vd v_fnma(vd a, vd b, vd c) {
  return MADD(-a, b, c);
}
static inline vd v_max(vd a, vd b) {
  return a > b ? a : b;
}
static inline vmask v_lt(vd a, vd b) {
  return a < b;
}
static inline unsigned v_bits_gt(vmask m, vd a, vd b) {
  return m && a > b;
}
static inline void v_store_masked(double *p, vmask m, vd x) {
  if (m)
    *p = x;
}
#endif

/* Indices of the kernel's constants in cl_neuron_kernel.c. */
enum {
  K_B1M,     /* a little below exp(-h/tau_min)/2: any beta > 1/2 implies beta1 > K_B1M */
  K_AEX_H,   /* exp(-h/(2 tau_ex)), for the partial intervals of pass two */
  K_AIN_H,   /* exp(-h/(2 tau_in)), same */
  K_HC2,     /* h/(2 C_m) (1/nS: a conductance (nS) into beta, a current (pA) into mV) */
  K_ZL2,     /* h g_L/(2 C_m) */
  K_AL2,     /* h (g_L (E_L - E_ex) + I_e)/(2 C_m) (mV) */
  K_HEIN2,   /* h (E_in - E_ex)/(2 C_m) */
  K_EEX,     /* E_ex: u = V - E_ex */
  K_A_REST,  /* g_L (E_L - E_ex) + I_e (pA), for the partial intervals of pass two */
  K_DE_IN,   /* E_in - E_ex (mV), same */
  K_RTAU_EX, /* 1/tau_ex, same */
  K_RTAU_IN, /* 1/tau_in, same */
  K_RH,      /* 1/h, same */
  K_RC2,     /* 1/(2 C_m), same */
  K_VTHM,    /* the largest double below V_th: V >= V_th <=> V - K_VTHM > 0 */
  K_VTH0M,   /* K_VTHM in precise mode (V at the start of the step is checked), +inf in grid */
  K_UTHM,    /* a little below V_th - E_ex: u_end > K_UTHM whenever V_end = u_end + E_ex >= V_th */
  K_NREF,    /* round(t_ref/h): refractory steps in grid mode */
  K_PRECISE, /* 1 in precise mode, 0 in grid mode */
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

/* The epoch is as long as it can be (CL_SCALE_PERIOD_MAX steps: the end-of-epoch sweep costs
 * about 1/period of a step) while the scaled values grow by at most e^32 in it: they stay far
 * from overflow, and a value flushed to zero below CL_G_TINY at the epoch's start stays far
 * above the subnormal range when scaled back inside it. A power of two, so that the phase in
 * the epoch is a mask, not a division (delivery takes it per table entry and step). */
void cl_scale_init(cl_scale *s, double tau, double dt) {
  memset(s, 0, sizeof *s);
  s->period = 1;
  while (s->period < CL_SCALE_PERIOD_MAX && (double)(2 * s->period) * dt <= 32.0 * tau)
    s->period *= 2;
  s->x_unit = 0.5 * dt / tau;
  for (int j = 0; j < s->period; j++)
    s->w_mul[j] = M_E * exp((double)j * dt / tau) * s->x_unit;
  for (int j = 0; j <= 2 * s->period; j++)
    s->decay[j] = exp(-0.5 * (double)j * dt / tau);
}

/* The constants of step n that depend on its place in the epochs (cl_step_consts): the factors
 * from the stored (scaled) conductances to their values folded into the coefficients. One scalar
 * set, used by both passes (broadcast into vectors for pass one), so that they agree to the bit.
 * The periods are powers of two, so step n's set is that of n mod the longer one; the kernel
 * holds them all (built per call they cost about 9 ns each, mostly a stall on reading back the
 * set just written: a tenth of the step of a network of 80 neurons in two populations).
 *   ce: h/(2 C_m) exp(-(t - t_e)/tau_ex) at t_n, t_n + h/2, t_{n+1};  ci: the same for g_in;
 *   ai: h (E_in - E_ex)/(2 C_m) exp(-(t - t_e)/tau_in), same points;
 *   de, di: exp(-(t - t_e)/tau), same points (pass two's partial intervals);
 *   wex, win: cl_scale_w, an input row into X;
 *   end_ex, end_in: the step ends an epoch of g: renormalise with this factor; else 0. */
typedef cl_step_consts stepc;

static void make_stepc(const cl_neuron_kernel *k, int64_t step, stepc *sc) {
  const double *c = k->c;
  const cl_scale *se = &k->scale[0], *si = &k->scale[1];
  const int je = (int)((uint64_t)step & (uint64_t)(se->period - 1));
  const int ji = (int)((uint64_t)step & (uint64_t)(si->period - 1));
  for (int q = 0; q < 3; q++) {
    sc->de[q] = se->decay[2 * je + q];
    sc->di[q] = si->decay[2 * ji + q];
    sc->ce[q] = c[K_HC2] * sc->de[q];
    sc->ci[q] = c[K_HC2] * sc->di[q];
    sc->ai[q] = c[K_HEIN2] * sc->di[q];
  }
  sc->wex = se->w_mul[je];
  sc->win = si->w_mul[ji];
  sc->end_ex = je + 1 == se->period ? se->decay[2 * se->period] : 0.0;
  sc->end_in = ji + 1 == si->period ? si->decay[2 * si->period] : 0.0;
}

void cl_neuron_kernel_init(cl_neuron_kernel *k, const cl_neuron_params *p, double dt) {
  _Static_assert(K_COUNT <= sizeof k->c / sizeof k->c[0], "too many kernel constants");
  memset(k, 0, sizeof *k);
  k->p = *p;
  k->dt = dt;
  cl_scale_init(&k->scale[0], p->tau_ex, dt);
  cl_scale_init(&k->scale[1], p->tau_in, dt);
  double *c = k->c;
  /* The stored conductances grow within a step (X >= 0) and their factors to nS fall by at
   * most exp(-h/tau) from the start to the end: every beta of the step is at most
   * exp(h/tau_min) beta1 (g_L's share does not fall), so pass one flags z > 1 by beta1 alone,
   * with a margin far above rounding; pass two decides exactly (is_huge). */
  c[K_B1M] = 0.5 * exp(-dt / fmin(p->tau_ex, p->tau_in)) * (1.0 - 1e-12);
  c[K_AEX_H] = exp(-0.5 * dt / p->tau_ex);
  c[K_AIN_H] = exp(-0.5 * dt / p->tau_in);
  c[K_HC2] = 0.5 * dt / p->C_m;
  c[K_ZL2] = 0.5 * dt * p->g_L / p->C_m;
  c[K_A_REST] = p->g_L * (p->E_L - p->E_ex) + p->I_e;
  c[K_DE_IN] = p->E_in - p->E_ex;
  c[K_RTAU_EX] = 1.0 / p->tau_ex;
  c[K_RTAU_IN] = 1.0 / p->tau_in;
  c[K_RH] = 1.0 / dt;
  c[K_RC2] = 0.5 / p->C_m;
  c[K_AL2] = 0.5 * dt * c[K_A_REST] / p->C_m;
  c[K_HEIN2] = 0.5 * dt * c[K_DE_IN] / p->C_m;
  c[K_EEX] = p->E_ex;
  c[K_VTHM] = nextafter(p->V_th, -INFINITY);
  c[K_VTH0M] = p->mode == CL_THRESHOLD_PRECISE ? c[K_VTHM] : INFINITY;
  /* u + E_ex rounds to within half an ulp of max(|V_th|, |E_ex|)-sized numbers: a margin of
   * 1e-12 of their size (thousands of ulps) makes the test on u a superset of V_end >= V_th;
   * pass two decides exactly */
  c[K_UTHM] = (p->V_th - p->E_ex) - 1e-12 * (1.0 + fabs(p->V_th) + fabs(p->E_ex));
  c[K_NREF] = round(p->t_ref / dt);
  c[K_PRECISE] = p->mode == CL_THRESHOLD_PRECISE;
  k->n_phases = k->scale[0].period > k->scale[1].period ? k->scale[0].period : k->scale[1].period;
  for (int j = 0; j < k->n_phases; j++)
    make_stepc(k, j, &k->phase[j]);
}

void cl_neuron_state_clear_refractory(cl_neuron_state *s) {
  for (size_t i = 0; i < s->n; i++)
    s->t_ref_end[i] = -INFINITY;
}

/* At the end of an epoch (cl_scale) the scaled g and x of the chunk just updated (still in
 * cache) are multiplied back to their values, and those below CL_G_TINY in magnitude set to
 * zero: without input a conductance would decay into subnormal numbers after some thousand time
 * constants, and arithmetic on those is many times slower. Inside the next epoch a stored value
 * is either 0 or at least CL_G_TINY, and the factors of cl_scale_out are at least e^-32. */
#define CL_G_TINY 1e-200

static void renormalise(double *restrict a, size_t m, double f) {
  for (size_t j = 0; j < m; j++) {
    const double v = a[j] * f;
    a[j] = fabs(v) < CL_G_TINY ? 0.0 : v;
  }
}

/* ---- pass two: the general scalar path ---- */

/* The halved coefficients of one (sub)interval (see the top): alpha (mV) and beta at its start,
 * midpoint and end. */
typedef struct {
  double a0, b0, ah, bh, a1, b1;
} coefs;

/* One RK4 step of u over an interval. The stages are formed as K2 = (alpha_h - beta_h u) -
 * beta_h K1, K3 = (alpha_h - beta_h u) - beta_h K2, K4 = (alpha1 - beta1 u) - 2 beta1 K3: the
 * same numbers as K = alpha - beta (u + ...), but the chain from K1 to K4 is one FMA per stage
 * (the vector pass's latency). The sum is formed with additions, u + ((2 (K2 + K3) + K1) + K4)/3,
 * the part without K4 while K4 is computed: one FMA instead of four, the other three for the
 * add pipes, which the vector pass leaves idler than the FMA pipes (see the cost at the top).
 * The same operations as pass one's. */
static double rk4(double u, const coefs *c) {
  double ch = MADD(-c->bh, u, c->ah), c1 = MADD(-c->b1, u, c->a1), b1x2 = c->b1 + c->b1;
  double k1 = MADD(-c->b0, u, c->a0);
  double k2 = MADD(-c->bh, k1, ch);
  double k3 = MADD(-c->bh, k2, ch);
  double p23 = k2 + k3;
  double k4 = MADD(-b1x2, k3, c1);
  double pre = (p23 + p23) + k1;
  return MADD(pre + k4, 1.0 / 3.0, u);
}

static int is_huge(const coefs *c) {
  return c->b0 > CL_BETA_RK4_MAX || c->bh > CL_BETA_RK4_MAX || c->b1 > CL_BETA_RK4_MAX;
}

/* u over one interval: RK4 when z <= 1 at all three points, else the exponential update with
 * the midpoint's u_inf = alpha/beta and z = 2 beta. */
static double advance(double u, const coefs *c) {
  if (!is_huge(c))
    return rk4(u, c);
  double u_inf = c->ah / c->bh;
  return u_inf + (u - u_inf) * exp(-2.0 * c->bh);
}

static inline double cubic(const double q[4], double s) {
  return MADD(MADD(MADD(q[3], s, q[2]), s, q[1]), s, q[0]);
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
  if (monotone) {
    /* The usual case, fast: Halley's method (q is a cubic, so q'' = 2 qa s + qb is exact and
     * cheap) from the secant point converges cubically. From the secant's typical error of
     * 1e-3 two steps reach full precision: once a step is below 1e-6 the next iterate is exact
     * to about 1e-18. A step that leaves [0, 1] hands over to the safeguarded loop below. */
    double s = -q[0] / (cubic(q, 1.0) - q[0]);
    for (int it = 0; it < 4 && s > 0.0 && s < 1.0; it++) {
      double f = cubic(q, s), d1 = MADD(MADD(qa, s, qb), s, qc), d2 = MADD(2.0 * qa, s, qb);
      double step = 2.0 * f * d1 / (2.0 * d1 * d1 - f * d2);
      double next = s - step;
      if (fabs(step) <= 1e-6 && next >= 0.0 && next <= 1.0)
        return next;
      s = next;
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

/* The data of a flagged neuron in pass two: conductances as stored (scaled, see cl_scale). */
typedef struct {
  double V, tre;         /* at t_n */
  double ge, xe, gi, xi; /* conductances at t_n, inputs added */
  double ge1, gi1;       /* at t_{n+1} */
  double I[3];           /* stimulus at t_n, t_n + h/2, t_{n+1} (pA) */
  double Vn;             /* pass one's RK4 result for the full step */
} lane_data;

/* The full step's coefficients: the scalar twin of those in vector_one() below, the same
 * operations in the same order (so the same bits). */
static void full_coefs(const double *c, const stepc *sc, const lane_data *d, coefs *cf) {
  double geh = d->ge + d->xe;
  double gih = d->gi + d->xi;
  cf->a0 = MADD(c[K_HC2], d->I[0], MADD(sc->ai[0], d->gi, c[K_AL2]));
  cf->ah = MADD(c[K_HC2], d->I[1], MADD(sc->ai[1], gih, c[K_AL2]));
  cf->a1 = MADD(c[K_HC2], d->I[2], MADD(sc->ai[2], d->gi1, c[K_AL2]));
  cf->b0 = MADD(sc->ce[0], d->ge, MADD(sc->ci[0], d->gi, c[K_ZL2]));
  cf->bh = MADD(sc->ce[1], geh, MADD(sc->ci[1], gih, c[K_ZL2]));
  cf->b1 = MADD(sc->ce[2], d->ge1, MADD(sc->ci[2], d->gi1, c[K_ZL2]));
}

/* alpha and beta of a sub-interval of length h - u0 at time u (in the step) with the
 * conductances ge, gi and the stimulus I there; LC2 = (h - u0) / (2 C_m). */
static void point_coefs(const double *c, double LC2, double ge, double gi, double I, double *a,
                        double *b, const cl_neuron_params *p) {
  *a = LC2 * (c[K_A_REST] + gi * c[K_DE_IN] + I);
  *b = LC2 * (p->g_L + ge + gi);
}

/* The coefficients of the sub-interval [u0, h] of the step (0 < u0 < h): conductances
 * propagated exactly from their values at t_n, the stimulus from its quadratic. One exp per
 * receptor: with f = exp(-u0/(2 tau)), the decay to u0 is f^2 and to the midpoint (u0 + h)/2 it
 * is f exp(-h/(2 tau)). Pass two's latency is mostly this and the RK4 chain: no divisions. */
static void partial_coefs(const cl_neuron_kernel *k, const stepc *sc, const lane_data *d, double u0,
                          coefs *cf) {
  const cl_neuron_params *p = &k->p;
  const double *c = k->c;
  const double h = k->dt;
  /* the values (nS) at t_n and t_{n+1} of the stored, scaled conductances */
  const double ge = sc->de[0] * d->ge, xe = sc->de[0] * d->xe;
  const double gi = sc->di[0] * d->gi, xi = sc->di[0] * d->xi;
  const double ge1 = sc->de[2] * d->ge1, gi1 = sc->di[2] * d->gi1;
  const double LC2 = fmax(h - u0, 0.0) * c[K_RC2];
  const double fe = exp(-0.5 * u0 * c[K_RTAU_EX]), fi = exp(-0.5 * u0 * c[K_RTAU_IN]);
  const double times[2] = {u0, 0.5 * (u0 + h)};
  const double de[2] = {fe * fe, fe * c[K_AEX_H]}, di[2] = {fi * fi, fi * c[K_AIN_H]};
  double *a[2] = {&cf->a0, &cf->ah}, *b[2] = {&cf->b0, &cf->bh};
  for (int j = 0; j < 2; j++) {
    double u = times[j], s = u * c[K_RH];
    double gej = de[j] * (ge + (2.0 * s) * xe); /* (u/tau) x, x stored times h/(2 tau) */
    double gij = di[j] * (gi + (2.0 * s) * xi);
    const double *I = d->I;
    double Is = I[0] + s * (4.0 * I[1] - 3.0 * I[0] - I[2]) +
                s * s * (2.0 * I[0] - 4.0 * I[1] + 2.0 * I[2]);
    point_coefs(c, LC2, gej, gij, Is, a[j], b[j], p);
  }
  point_coefs(c, LC2, ge1, gi1, d->I[2], &cf->a1, &cf->b1, p);
}

/* Finishes the step of flagged neuron i: writes its V and refractory end. Returns 1 and sets
 * *t_spike when it spikes. */
static int finish_lane(const cl_neuron_kernel *k, const stepc *sc, cl_neuron_state *st,
                       int64_t step, const lane_data *d, size_t i, double *t_spike) {
  const double *c = k->c;
  const cl_neuron_params *p = &k->p;
  const double h = k->dt, E_ex = c[K_EEX];
  const double t0 = (double)step * h, t1 = (double)(step + 1) * h;
  double V = d->V, tre = d->tre;
  const int precise = c[K_PRECISE] != 0.0;
  if (precise ? tre >= t1 : tre > t0) { /* refractory for the whole step: V stays at V_reset */
    st->V_m[i] = V;
    return 0;
  }
  double u0 = tre > t0 ? tre - t0 : 0.0; /* precise mode: refractoriness ends inside the step */
  int spiked = 0;
  if (precise && V >= p->V_th) { /* starts at threshold: spike at the start of the interval */
    *t_spike = t0 + u0;
    spiked = 1;
    V = p->V_reset;
    tre = *t_spike + p->t_ref;
    if (tre >= t1) {
      st->V_m[i] = V;
      st->t_ref_end[i] = tre;
      return 1;
    }
    u0 = tre - t0;
  }
  coefs cf;
  double V1;
  if (u0 == 0.0) { /* the full step: pass one's RK4 result when it holds */
    full_coefs(c, sc, d, &cf);
    V1 = is_huge(&cf) ? advance(V - E_ex, &cf) + E_ex : d->Vn;
  } else {
    partial_coefs(k, sc, d, u0, &cf);
    V1 = advance(V - E_ex, &cf) + E_ex;
  }
  if (!spiked && V1 >= p->V_th) {
    spiked = 1;
    if (!precise) {
      *t_spike = t1;
      V1 = p->V_reset;
      tre = (double)(step + 1 + (int64_t)c[K_NREF]) * h;
    } else {
      /* Hermite cubic in s in [0, 1] over [u0, h]; the slopes dV/ds = 2 (alpha - beta u). */
      double da = V - p->V_th, db = V1 - p->V_th;
      double ma = 2.0 * MADD(-cf.b0, V - E_ex, cf.a0), mb = 2.0 * MADD(-cf.b1, V1 - E_ex, cf.a1);
      const double q[4] = {da, ma, 3.0 * (db - da) - 2.0 * ma - mb, 2.0 * (da - db) + ma + mb};
      double sroot = first_root(q);
      *t_spike = t0 + (u0 + sroot * (h - u0));
      tre = *t_spike + p->t_ref;
      V1 = p->V_reset;
      if (tre < t1) {
        partial_coefs(k, sc, d, tre - t0, &cf);
        V1 = advance(p->V_reset - E_ex, &cf) + E_ex;
      }
    }
  }
  st->V_m[i] = V1;
  st->t_ref_end[i] = tre;
  return spiked;
}

/* ---- pass one: the vector pass ---- */

/* The save area: up to CL_SAVE vectors that have flagged lanes, with their state at t_n (inputs
 * added) and pass one's RK4 result. */
enum { S_V, S_TRE, S_GE, S_XE, S_GI, S_XI, S_VN, S_COUNT };
typedef struct {
  size_t count;
  size_t first[CL_SAVE];  /* index of the vector's lane 0 */
  unsigned bits[CL_SAVE]; /* flagged lanes */
  double v[CL_SAVE][S_COUNT][CL_W];
} save_area;

/* The arrays pass one reads and writes, offset so that element i is neuron base + i. */
typedef struct {
  double *V_m, *g_ex, *x_ex, *g_in, *x_in;
  const double *tre;
  float *in_ex, *in_in;
  const double *I0, *Ih, *I1;
  size_t n;    /* elements */
  size_t base; /* index of element 0 in the state (the tail runs on padded copies) */
} arrays;

/* The step's constants, one per vector register. */
typedef struct {
  vd wex, win, b1m, ce0, ceh, ce1, ci0, cih, ci1, ai0, aih, ai1;
  vd hc2, zl2, al2, eex, vth0m, uthm, t0, t_full;
} vconsts;

static vconsts make_vconsts(const cl_neuron_kernel *k, const stepc *sc, int64_t step) {
  const double *c = k->c;
  const double t0 = (double)step * k->dt, t1 = (double)(step + 1) * k->dt;
  /* Refractory for the whole step from t_full on; between t0 and t_full it ends inside. */
  const double t_full = c[K_PRECISE] != 0.0 ? t1 : nextafter(t0, INFINITY);
  const vconsts K = {v_set(sc->wex),    v_set(sc->win),   v_set(c[K_B1M]),  v_set(sc->ce[0]),
                     v_set(sc->ce[1]),  v_set(sc->ce[2]), v_set(sc->ci[0]), v_set(sc->ci[1]),
                     v_set(sc->ci[2]),  v_set(sc->ai[0]), v_set(sc->ai[1]), v_set(sc->ai[2]),
                     v_set(c[K_HC2]),   v_set(c[K_ZL2]),  v_set(c[K_AL2]),  v_set(c[K_EEX]),
                     v_set(c[K_VTH0M]), v_set(c[K_UTHM]), v_set(t0),        v_set(t_full)};
  return K;
}

/* Large populations stream through memory, and the hardware prefetchers alone left the loop
 * waiting on it (at 1e6 neurons the step took about the sum of its in-cache time and the time to
 * stream its arrays); prefetching CL_PREFETCH elements ahead of element i overlaps the two
 * (bench_neuron, Zen 5: 2.7 -> 2.35 ns per neuron-step; 4 or 16 KB ahead gained nothing). */
static inline __attribute__((always_inline)) void
prefetch_ahead(const arrays *A, size_t i, const int has_ex, const int has_in) {
  const size_t sa = i + CL_PREFETCH < A->n ? i + CL_PREFETCH : i;
  if (has_ex)
    __builtin_prefetch(A->in_ex + sa, 1, 3);
  if (has_in)
    __builtin_prefetch(A->in_in + sa, 1, 3);
  __builtin_prefetch(A->V_m + sa, 1, 3);
  __builtin_prefetch(A->g_ex + sa, 1, 3);
  if (has_ex) /* (the rw argument must be a constant for Clang) */
    __builtin_prefetch(A->x_ex + sa, 1, 3);
  else
    __builtin_prefetch(A->x_ex + sa, 0, 3);
  __builtin_prefetch(A->g_in + sa, 1, 3);
  if (has_in)
    __builtin_prefetch(A->x_in + sa, 1, 3);
  else
    __builtin_prefetch(A->x_in + sa, 0, 3);
  __builtin_prefetch(A->tre + sa, 0, 3);
}

/* Pass one on the vector from element i: see the top. The order keeps the dependency chain
 * short and few values live across it (32 vector registers hold the constants and the values in
 * flight): the RK4 stages are one FMA apart, and the parts of the flag that do not need V_end
 * are formed as soon as the coefficients are. (Interleaving two vectors per iteration, to give
 * the core more independent work, was slower once the chain was short: register spills.) */
static inline __attribute__((always_inline)) void vector_one(const vconsts *K, const arrays *A,
                                                             size_t i, save_area *sv,
                                                             const int has_ex, const int has_in,
                                                             const int has_I, const int prefetch) {
  const vd zero = v_set(0.0);
  if (prefetch)
    prefetch_ahead(A, i, has_ex, has_in);
  /* the state at t_n with this step's input (scaled, see cl_scale: X is constant over the step,
   * G grows by (u/tau) X); the scaled conductances at the midpoint and the end, and the halved
   * coefficients at the three points, with the factors back to nS in the step's constants
   * (full_coefs() is the scalar twin) */
  const vd V = v_load(A->V_m + i);
  vd ge = v_load(A->g_ex + i), gi = v_load(A->g_in + i);
  vd xe = v_load(A->x_ex + i), xi = v_load(A->x_in + i);
  if (has_ex)
    xe = v_fma(K->wex, v_loadf(A->in_ex + i), xe);
  if (has_in)
    xi = v_fma(K->win, v_loadf(A->in_in + i), xi);
  vd geh = ge + xe, gih = gi + xi;
  vd ge1 = geh + xe, gi1 = gih + xi;
  vd a0 = v_fma(K->ai0, gi, K->al2);
  vd ah = v_fma(K->aih, gih, K->al2);
  vd a1 = v_fma(K->ai1, gi1, K->al2);
  vd b0 = v_fma(K->ce0, ge, v_fma(K->ci0, gi, K->zl2));
  vd bh = v_fma(K->ceh, geh, v_fma(K->cih, gih, K->zl2));
  vd b1 = v_fma(K->ce1, ge1, v_fma(K->ci1, gi1, K->zl2));
  if (has_I) {
    a0 = v_fma(K->hc2, v_load(A->I0 + i), a0);
    ah = v_fma(K->hc2, v_load(A->Ih + i), ah);
    a1 = v_fma(K->hc2, v_load(A->I1 + i), a1);
  }
  /* Flagged: not refractory for the whole step (tre < t_full) and score > 0, where score > 0
   * <=> V_end >= V_th, or V_start >= V_th in precise mode, or beta1 > K_B1M (implied by any
   * beta > 1/2), or tre > t_n: each difference is > 0 exactly when its comparison holds (IEEE
   * subtraction is monotone and exact at 0), and tre = -inf gives -inf. All but the V_end term
   * now, off the RK4 chain; the V_end term is a compare of u_end (one operation after the
   * chain's end, before E_ex is added back) against K_UTHM, which flags a superset of
   * V_end >= V_th. Pass two decides both supersets exactly. */
  const vd tre = v_load(A->tre + i);
  const vmask active = v_lt(tre, K->t_full);
  vd early = v_max(v_max(V - K->vth0m, b1 - K->b1m), tre - K->t0);
  /* RK4 on u = V - E_ex, arranged for a short dependency chain (rk4() above is the scalar
   * twin, see there) */
  vd y = V - K->eex;
  vd ch = v_fnma(bh, y, ah), c1 = v_fnma(b1, y, a1), b1x2 = b1 + b1;
  const vd third = v_set(1.0 / 3.0);
  vd k1 = v_fnma(b0, y, a0);
  vd k2 = v_fnma(bh, k1, ch);
  vd k3 = v_fnma(bh, k2, ch);
  vd p23 = k2 + k3;
  vd k4 = v_fnma(b1x2, k3, c1);
  vd pre = (p23 + p23) + k1;
  const unsigned early_bits = v_bits_gt(active, early, zero);
  const vd un = v_fma(pre + k4, third, y), Vn = un + K->eex;
  unsigned flag = early_bits | v_bits_gt(active, un, K->uthm);
  if (flag) { /* rare: keep what pass two needs */
    size_t slot = sv->count++;
    sv->first[slot] = A->base + i;
    sv->bits[slot] = flag;
    const vd keep[S_COUNT] = {V, tre, ge, xe, gi, xi, Vn};
    for (int q = 0; q < S_COUNT; q++)
      v_store(sv->v[slot][q], keep[q]);
  }
  /* Every store is unconditional: a flagged neuron's V is overwritten by pass two, and its
   * conductances are the same on both paths. X changes only with an input row. */
  v_store_masked(A->V_m + i, active, Vn);
  v_store(A->g_ex + i, ge1);
  v_store(A->g_in + i, gi1);
  if (has_ex) {
    v_store(A->x_ex + i, xe);
    v_zerof(A->in_ex + i);
  }
  if (has_in) {
    v_store(A->x_in + i, xi);
    v_zerof(A->in_in + i);
  }
}

/* Pass one over the whole vectors of elements [i, end) (a multiple of CL_W apart) until the save
 * area cannot take another group; returns the element reached. */
static inline __attribute__((always_inline)) size_t
vector_pass(const cl_neuron_kernel *k, const stepc *sc, int64_t step, const arrays *A0, size_t i,
            size_t end, save_area *sv, const int has_ex, const int has_in, const int has_I,
            const int prefetch) {
  /* Constants and pointers in locals: the vector stores may alias anything in memory. */
  const vconsts K = make_vconsts(k, sc, step);
  const arrays A = *A0;
  for (; i + CL_W <= end && sv->count < CL_SAVE; i += CL_W)
    vector_one(&K, &A, i, sv, has_ex, has_in, has_I, prefetch);
  return i;
}

/* One instance of pass one per input combination and prefetching (not inlined: its loop gets
 * the registers), indexed by has_ex | has_in << 1 | has_I << 2 | prefetch << 3. */
typedef size_t pass_fn(const cl_neuron_kernel *k, const stepc *sc, int64_t step, const arrays *A,
                       size_t i, size_t end, save_area *sv);
#define CL_VECTOR_PASS(v)                                                                          \
  static __attribute__((noinline))                                                                 \
  size_t pass_##v(const cl_neuron_kernel *k, const stepc *sc, int64_t step, const arrays *A,       \
                  size_t i, size_t end, save_area *sv) {                                           \
    return vector_pass(k, sc, step, A, i, end, sv, (v)&1, (v) >> 1 & 1, (v) >> 2 & 1,              \
                       (v) >> 3 & 1);                                                              \
  }
CL_VECTOR_PASS(0)
CL_VECTOR_PASS(1)
CL_VECTOR_PASS(2)
CL_VECTOR_PASS(3)
CL_VECTOR_PASS(4)
CL_VECTOR_PASS(5)
CL_VECTOR_PASS(6)
CL_VECTOR_PASS(7)
CL_VECTOR_PASS(8)
CL_VECTOR_PASS(9)
CL_VECTOR_PASS(10)
CL_VECTOR_PASS(11)
CL_VECTOR_PASS(12)
CL_VECTOR_PASS(13)
CL_VECTOR_PASS(14)
CL_VECTOR_PASS(15)
static pass_fn *const vector_passes[16] = {pass_0,  pass_1,  pass_2,  pass_3, pass_4,  pass_5,
                                           pass_6,  pass_7,  pass_8,  pass_9, pass_10, pass_11,
                                           pass_12, pass_13, pass_14, pass_15};

/* Pass two over the save area (in increasing index); empties it. Returns the number of spikes
 * appended to spike_idx, spike_t. */
static size_t rare_pass(const cl_neuron_kernel *k, const stepc *sc, cl_neuron_state *s,
                        const cl_neuron_input *in, int64_t step, save_area *sv, uint32_t *spike_idx,
                        double *spike_t) {
  size_t nspikes = 0;
  for (size_t slot = 0; slot < sv->count; slot++) {
    double(*v)[CL_W] = sv->v[slot];
    for (unsigned bits = sv->bits[slot]; bits; bits &= bits - 1) {
      int l = __builtin_ctz(bits);
      size_t i = sv->first[slot] + (size_t)l;
      /* the conductances at t_{n+1} as pass one stored them */
      const lane_data d = {
          v[S_V][l],
          v[S_TRE][l],
          v[S_GE][l],
          v[S_XE][l],
          v[S_GI][l],
          v[S_XI][l],
          s->g_ex[i],
          s->g_in[i],
          {in->I0 ? in->I0[i] : 0.0, in->I0 ? in->Ih[i] : 0.0, in->I0 ? in->I1[i] : 0.0},
          v[S_VN][l]};
      double ts;
      if (finish_lane(k, sc, s, step, &d, i, &ts)) {
        spike_idx[nspikes] = (uint32_t)i;
        spike_t[nspikes] = ts;
        nspikes++;
      }
    }
  }
  sv->count = 0;
  return nspikes;
}

/* The end of an epoch for the neurons [i, i + m) (see renormalise). */
static void renormalise_range(const stepc *sc, cl_neuron_state *s, size_t i, size_t m) {
  if (sc->end_ex != 0.0) {
    renormalise(s->g_ex + i, m, sc->end_ex);
    renormalise(s->x_ex + i, m, sc->end_ex);
  }
  if (sc->end_in != 0.0) {
    renormalise(s->g_in + i, m, sc->end_in);
    renormalise(s->x_in + i, m, sc->end_in);
  }
}

size_t cl_neuron_step(const cl_neuron_kernel *k, cl_neuron_state *s, int64_t step,
                      const cl_neuron_input *in, uint32_t *spike_idx, double *spike_t) {
  const int has_ex = in->in_ex != NULL, has_in = in->in_in != NULL, has_I = in->I0 != NULL;
  pass_fn *const pass =
      vector_passes[has_ex | has_in << 1 | has_I << 2 | (s->n > CL_PREFETCH_MIN) << 3];
  const stepc *sc = &k->phase[(uint64_t)step & (uint64_t)(k->n_phases - 1)];
  const int epoch_end = sc->end_ex != 0.0 || sc->end_in != 0.0;
  const size_t n = s->n, n_full = n - n % CL_W;
  save_area sv;
  sv.count = 0;
  size_t nspikes = 0;
  const arrays A = {s->V_m, s->g_ex, s->x_ex, s->g_in, s->x_in, s->t_ref_end, in->in_ex, in->in_in,
                    in->I0, in->Ih,  in->I1,  n,       0};
  size_t next_poll = CL_POLL_NEURONS;
  for (size_t i = 0; i < n_full;) {
    size_t end = n_full - i < CL_CHUNK ? n_full : i + CL_CHUNK;
    size_t reached = pass(k, sc, step, &A, i, end, &sv);
    nspikes += rare_pass(k, sc, s, in, step, &sv, spike_idx + nspikes, spike_t + nspikes);
    if (epoch_end)
      renormalise_range(sc, s, i, reached - i);
    i = reached;
    if (in->poll && i >= next_poll) {
      in->poll(in->poll_ctx);
      next_poll = i + CL_POLL_NEURONS;
    }
  }
  if (n_full < n) {
    /* The last m < CL_W neurons: the same vector code on padded copies. Padding lanes are
     * refractory forever (tre = +inf), so they are never flagged; their arithmetic is on
     * zeros. */
    const size_t m = n - n_full;
    double buf[9][CL_W];
    float fbuf[2][CL_W] = {{0.0f}};
    for (int a = 0; a < 9; a++)
      for (size_t l = 0; l < CL_W; l++)
        buf[a][l] = a == 5 ? INFINITY : 0.0;
    double *const state[6] = {s->V_m, s->g_ex, s->x_ex, s->g_in, s->x_in, s->t_ref_end};
    const double *const currents[3] = {in->I0, in->Ih, in->I1};
    float *const rows[2] = {in->in_ex, in->in_in};
    for (int a = 0; a < 6; a++)
      memcpy(buf[a], state[a] + n_full, m * sizeof(double));
    for (int a = 0; a < 3; a++)
      if (currents[a])
        memcpy(buf[6 + a], currents[a] + n_full, m * sizeof(double));
    for (int a = 0; a < 2; a++)
      if (rows[a])
        memcpy(fbuf[a], rows[a] + n_full, m * sizeof(float));
    const arrays T = {buf[0],  buf[1], buf[2], buf[3], buf[4], buf[5], fbuf[0],
                      fbuf[1], buf[6], buf[7], buf[8], CL_W,   n_full};
    pass(k, sc, step, &T, 0, CL_W, &sv);
    for (int a = 0; a < 5; a++)
      memcpy(state[a] + n_full, buf[a], m * sizeof(double));
    for (int a = 0; a < 2; a++)
      if (rows[a])
        memset(rows[a] + n_full, 0, m * sizeof(float));
    nspikes += rare_pass(k, sc, s, in, step, &sv, spike_idx + nspikes, spike_t + nspikes);
    if (epoch_end)
      renormalise_range(sc, s, n_full, m);
  }
  return nspikes;
}
