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
 * which is classical RK4 with k_i = 2 K_i (see v_rk4() for the order of the operations). z <= 1
 * reads beta <= 1/2 (exact: halving is exact). K1 of step n + 1 is alpha1 - beta1 u' with step
 * n's alpha1 and beta1, to the bit within an epoch: where the state has a k1 array, pass one
 * keeps it at the end of a step and the next loads it instead of forming alpha0, beta0 and K1
 * (cl_neuron_step says when; doc/design.md, "K1 carried"): 13 FMA-pipe operations per eight
 * neurons instead of 16 (bench_neuron COBA at 4000: 0.739-0.744 -> 0.709-0.711 ns per
 * neuron-step).
 *
 * Implementation: two passes.
 *  - Pass one (the vector pass) runs over the neurons CL_W at a time (explicit SIMD, see the
 *    layer below) and, without any branch per neuron, propagates the conductances, clears the
 *    input row, integrates the full step with RK4 and stores the results of every neuron. A
 *    neuron held at V_reset after a spike has V = NaN (cl_neuron_state in neuron.h), which the
 *    arithmetic keeps, so the pass has no refractory test. It also forms, with a few max
 *    operations, a "score" per neuron that is positive exactly when the neuron needs the
 *    general path: a held neuron's refractoriness ends in the step, or z > 1 at one of the
 *    three points, or V >= V_th at the end, or at the start in precise mode. When a vector has
 *    such a neuron (a rare, well predicted branch), its state at t_n (inputs added) and its RK4
 *    result go to a small save area. The refractory term is formed only for the vectors whose
 *    group's bound of t_ref_end (cl_neuron_state.tre_min) is below t_{n+1}: a branch on a number
 *    loaded ahead, which resolves within a few cycles, where the flag's branch resolves at the
 *    end of the RK4 chain and, mispredicted, discarded the work of the vectors behind it; such
 *    a vector goes to the save area whatever its flag (doc/design.md, "Ends of
 *    refractoriness").
 *  - Pass two (the rare pass) gathers the saved neurons into whole vectors and finishes them
 *    CL_W at a time (partial intervals, Hermite crossing, reset; the exponential update where
 *    z > 1 and the rare root that two Halley steps do not settle in scalar code), then
 *    overwrites their V and refractory end. For the full step it uses pass one's RK4 result;
 *    the coefficients of the crossing's slopes are pass one's operations again
 *    (v_full_coefs). Every lane's path depends on its own values alone, so a neuron's result
 *    is the same bit for bit whatever its position and its neighbours in either pass (SIMD
 *    lanes are independent), and pass two's own exp (v_exp) makes it the same in every
 *    build. The conductances and x of a flagged neuron are those pass one stored.
 *  The vector pass runs over chunks of at most CL_CHUNK neurons and stops early when the save
 *  area is full; pass two then runs on data that is still in cache. The last n % CL_W neurons
 *  go through the same vector code on small padded copies.
 *
 * Cost, AVX-512 (bench/bench_neuron.c): 33 vector operations per 8 neurons (31 with E_ex = 0,
 * below), 16 of them multiplications or FMAs, 14 additions or subtractions, 2 max and 1
 * compare; about 19 cycles per vector on a Zen 4 core, plus some 50 ns per event (an end of
 * refractoriness, a spike) in COBA-alpha's network: about 26 for pass one's flagged vector (a
 * mispredicted branch that resolves at the end of the RK4 chain, and the save) and 23 for pass
 * two's lanes (TSC counts around the two passes, N = 4000, 8.5 events per step). Zen 4 issues
 * FMAs, multiplications and compares (also integer compares into mask registers) to one pair
 * of pipes, one 512-bit operation per cycle, and additions and max to the other pair, so the
 * FMA-pipe operations (17) bound the loop and additions are nearly free: the conductances'
 * midpoint and end and the RK4 sum use additions where FMAs were (bench_neuron COBA at N =
 * 4000 on Zen 4, medians of 3 interleaved runs: 1.07-1.13 -> 0.96-0.97 ns per neuron-step),
 * x is stored times h/(2 tau) (0.975 -> 0.918), the z > 1 test takes beta1 alone
 * (0.918 -> 0.89), held neurons' V NaN instead of a refractory test and a masked store of V
 * (one compare fewer: 0.799 -> 0.771-0.774 at 4000, 0.819-0.825 -> 0.796-0.806 at 40 000, 3
 * interleaved runs when the machine was calm), the flag's V_end term folded into the max with
 * one compare for all terms, and the start-of-step term only where a neuron can start above
 * threshold (cl_neuron_state.settled; 17 + 16 operations instead of 18 + 16: 0.771-0.774 ->
 * 0.756-0.766 at 4000; the simulator's update 0.0324-0.0333 -> 0.0317-0.0324 s at 4000,
 * 0.325-0.338 -> 0.317-0.322 at 40 000). With E_ex = 0 (the `e0` variant, see vector_one) the
 * subtraction and the addition of E_ex go, and the flag comes from the sign bits (VPMOVQ2M) of a
 * min instead of a compare: 16 FMA-pipe and 15 add-pipe operations (0.759-0.763 -> 0.741-0.751
 * at 4000, 0.774-0.786 -> 0.765-0.772 at 40 000). VPMOVQ2M itself takes an FMA-pipe cycle, as
 * a compare into a mask does, and each 512-bit store about 1.6 next to FMAs (microbenchmarks in
 * bench/README.md, the sixteenth session): with the three stores of V, g_ex and g_in that is
 * the 19 cycles per vector the loop takes. Tried and dropped: the flag from compares, or
 * from sign bits with integer logic or VPMOVQ2M of a score formed with min, where E_ex is added
 * and subtracted (the add pipes then bound the loop: 0.771 -> 0.801); the fold with the start term
 * kept (18 + 18: no faster); the flag tested as a 256-bit OR of the vector's halves (VTESTPD),
 * VPMOVQ2M only on the rare path (0.739-0.741 -> 0.764-0.768); RK4's sum as (K1 + 2 K2) +
 * (c1 + (2 - 2 beta1) K3), a shorter chain and one addition fewer (no faster); beta1 and alpha1
 * kept per neuron for the next step's beta0 and alpha0, equal to the bit but for the first step of
 * an epoch (3 FMAs fewer, two arrays more to load and store: 0.89 -> 0.93 at N = 4000, 0.92 -> 1.15
 * at 40 000); pass one without its branch (flag bits written per vector, the flagged lanes' stores
 * masked so that they keep their state at t_n, pass two evaluating those vectors again: fastest
 * steps 0.75 -> 0.88; tried again in the fifteenth session, a byte of flags per vector: medians
 * 0.756-0.761 -> 0.809-0.819), or with the save written for every vector and its slot advanced by
 * the flag (1.74 -> 2.25 TSC ticks per neuron-step with no event at all); the branch on the terms
 * known early apart from the V_end term's (no faster); AVX2 on the same core (1.54); the
 * stages as K = alpha - beta (u + K), two FMAs fewer and three additions more (0.68 -> 0.69-0.70
 * at 4000; K4 alone so: 0.68 at 4000, 0.767 -> 0.755 at 40 000); pass one without the branch,
 * V at t_n stored into a scratch and the flags into a byte per vector (0.68 -> 0.84-0.89: one
 * more store costs more than the branch, bench/README.md, the nineteenth session). What did
 * pay: the refractory term only where the group's bound of t_ref_end (tre_min) is below
 * t_{n+1}, a branch on a loaded number that resolves early, with those vectors saved whatever
 * their flag (0.724-0.734 -> 0.697-0.706 at 4000; cache-resident states only, see
 * vector_pass). */
#include "condlif/neuron.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* exp's rounding constant 1.5 * 2^52 (x + it rounds x to an integer k, held in the low bits),
 * and its bit pattern less the exponent bias: (bits - CL_EXP_BIAS) << 52 is 2^k. */
#define CL_EXP_SHIFTER 0x1.8p52
#define CL_EXP_BIAS (INT64_C(0x4338000000000000) - 1023)

/* ---- SIMD layer: CL_W doubles per vector ----
 * Explicit vectors instead of auto-vectorisation, because pass one needs what a vectorised
 * loop cannot express: one branch per vector on "any lane flagged" instead of a flag array and
 * a blend on every store. The operators + - * act lane-wise on vd (GCC/Clang vector types, or
 * plain doubles in the scalar fallback); v_fma(a, b, c) = a b + c and v_fnma(a, b, c) = c - a b
 * are fused exactly when MADD is; v_max returns b when a lane compares false (also for NaN),
 * like x86's MAXPD (pass one relies on it for the NaN V of held neurons), and so does v_min,
 * like MINPD; v_neg_bits(a) has bit j set when lane j's sign bit is; v_bits_gt(m, a, b)
 * has bit j set when lane j of the mask m is set and a > b there; v_loadf loads CL_W floats as
 * doubles and v_zerof stores CL_W float zeros (the input rows); v_all is the mask of every lane,
 * v_ge_bits(a, b) has bit j set when a >= b in lane j, v_blend(bits, a, b) takes b in the lanes
 * whose bit is set and a elsewhere; v_pow2k(t) is 2^k for t = k + CL_EXP_SHIFTER, -1022 <= k <=
 * 1023 (integer arithmetic on the bits). */
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
static inline vd v_min(vd a, vd b) {
  return _mm512_min_pd(a, b);
}
static inline unsigned v_neg_bits(vd a) {
#ifdef __AVX512DQ__
  return _mm512_movepi64_mask(_mm512_castpd_si512(a)); /* VPMOVQ2M */
#else
  return _mm512_cmplt_epi64_mask(_mm512_castpd_si512(a), _mm512_setzero_si512());
#endif
}
static inline unsigned v_bits_gt(vmask m, vd a, vd b) {
  return _mm512_mask_cmp_pd_mask(m, a, b, _CMP_GT_OQ);
}
static inline vmask v_all(void) {
  return (vmask)0xFF;
}
static inline unsigned v_ge_bits(vd a, vd b) {
  return _mm512_cmp_pd_mask(a, b, _CMP_GE_OQ);
}
static inline vd v_blend(unsigned bits, vd a, vd b) {
  return _mm512_mask_blend_pd((__mmask8)bits, a, b);
}
static inline vd v_pow2k(vd t) {
  const __m512i i = _mm512_sub_epi64(_mm512_castpd_si512(t), _mm512_set1_epi64(CL_EXP_BIAS));
  return _mm512_castsi512_pd(_mm512_slli_epi64(i, 52));
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
static inline vd v_min(vd a, vd b) {
  return _mm256_min_pd(a, b);
}
static inline unsigned v_neg_bits(vd a) {
  return (unsigned)_mm256_movemask_pd(a);
}
static inline unsigned v_bits_gt(vmask m, vd a, vd b) {
  return (unsigned)_mm256_movemask_pd(_mm256_and_pd(m, _mm256_cmp_pd(a, b, _CMP_GT_OQ)));
}
static inline vmask v_all(void) {
  return _mm256_castsi256_pd(_mm256_set1_epi64x(-1));
}
static inline unsigned v_ge_bits(vd a, vd b) {
  return (unsigned)_mm256_movemask_pd(_mm256_cmp_pd(a, b, _CMP_GE_OQ));
}
static inline vd v_blend(unsigned bits, vd a, vd b) {
  const __m256i lane = _mm256_setr_epi64x(1, 2, 4, 8);
  const __m256i m = _mm256_and_si256(_mm256_set1_epi64x((long long)bits), lane);
  return _mm256_blendv_pd(a, b, _mm256_castsi256_pd(_mm256_cmpeq_epi64(m, lane)));
}
static inline vd v_pow2k(vd t) {
  const __m256i i = _mm256_sub_epi64(_mm256_castpd_si256(t), _mm256_set1_epi64x(CL_EXP_BIAS));
  return _mm256_castsi256_pd(_mm256_slli_epi64(i, 52));
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
static inline vd v_min(vd a, vd b) {
  return a < b ? a : b;
}
static inline unsigned v_neg_bits(vd a) {
  return signbit(a) != 0;
}
static inline unsigned v_bits_gt(vmask m, vd a, vd b) {
  return m && a > b;
}
static inline vmask v_all(void) {
  return 1;
}
static inline unsigned v_ge_bits(vd a, vd b) {
  return a >= b;
}
static inline vd v_blend(unsigned bits, vd a, vd b) {
  return bits & 1 ? b : a;
}
static inline vd v_pow2k(vd t) {
  uint64_t i;
  memcpy(&i, &t, sizeof i);
  i = (i - (uint64_t)CL_EXP_BIAS) << 52;
  memcpy(&t, &i, sizeof t);
  return t;
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
  K_UTHM,    /* a little below V_th - E_ex: u_end > K_UTHM whenever V_end = u_end + E_ex >= V_th */
  K_NREF,    /* round(t_ref/h): refractory steps in grid mode */
  K_PRECISE, /* 1 in precise mode, 0 in grid mode */
  K_SETTLES, /* 1 when no neuron ends a step at or above V_th (cl_neuron_state.settled) */
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
   * with a margin far above rounding; pass two decides exactly (finish_lanes). */
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
  /* u + E_ex rounds to within half an ulp of max(|V_th|, |E_ex|)-sized numbers: a margin of
   * 1e-12 of their size (thousands of ulps) makes the test on u a superset of V_end >= V_th;
   * pass two decides exactly */
  c[K_UTHM] = (p->V_th - p->E_ex) - 1e-12 * (1.0 + fabs(p->V_th) + fabs(p->E_ex));
  c[K_NREF] = round(p->t_ref / dt);
  c[K_PRECISE] = p->mode == CL_THRESHOLD_PRECISE;
  /* A neuron ends a step at or above V_th only when it crossed and its refractoriness ended
   * before the step's end, so that the rest of the step could cross again (capped: it fires at
   * the next step's start): never when t_ref is at least two steps (one would do but for the
   * rounding of t* + t_ref against t_{n+1}). In grid mode the start is not tested. */
  c[K_SETTLES] = p->mode == CL_THRESHOLD_GRID || p->t_ref >= 2.0 * dt;
  k->n_phases = k->scale[0].period > k->scale[1].period ? k->scale[0].period : k->scale[1].period;
  for (int j = 0; j < k->n_phases; j++)
    make_stepc(k, j, &k->phase[j]);
}

int cl_neuron_kernel_same(const cl_neuron_kernel *a, const cl_neuron_kernel *b) {
  const cl_neuron_params *p = &a->p, *q = &b->p;
  return a->dt == b->dt && p->C_m == q->C_m && p->g_L == q->g_L && p->E_L == q->E_L &&
         p->E_ex == q->E_ex && p->E_in == q->E_in && p->V_th == q->V_th &&
         p->V_reset == q->V_reset && p->t_ref == q->t_ref && p->tau_ex == q->tau_ex &&
         p->tau_in == q->tau_in && p->I_e == q->I_e && p->mode == q->mode;
}

int cl_neuron_state_resident(uint64_t n) {
  const long l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
  const double cache = l2 > 0 ? (double)l2 : 1048576.0;
  return 7.0 * sizeof(double) * (double)n <= cache;
}

/* Offsets of the state arrays modulo 4 KiB (cl_neuron_state_alloc): pass one loads element i
 * of every array while the stores of the last few vectors (elements i - 8 k, 64 k bytes back)
 * wait in the store queue, and a load whose address matches such a store's in bits 0-11 waits
 * for it (4 KiB aliasing). Seven arrays 512 bytes apart modulo 4 KiB match only 8 or more
 * vectors back, by then retired. (bench_neuron COBA at 4000 with k1 placed 64 bytes below g_in
 * modulo 4 KiB: 0.934-0.941 against 0.709-0.711 ns per neuron-step in runs where it did not
 * bite.) */
#define CL_STATE_STAGGER 512

int cl_neuron_state_alloc(cl_neuron_state *s, size_t n, int resident) {
  enum { PAGE = 4096 };
  const size_t n_arrays = resident ? 7 : 6;
  const size_t stride = (n * sizeof(double) + PAGE - 1) / PAGE * PAGE + CL_STATE_STAGGER;
  const size_t n_groups = resident ? (n + CL_TRE_GROUP - 1) / CL_TRE_GROUP : 0;
  const size_t bytes = (n_arrays * stride + n_groups * sizeof(double) + PAGE - 1) / PAGE * PAGE;
  memset(s, 0, sizeof *s);
  char *block = aligned_alloc(PAGE, bytes);
  if (!block)
    return CL_ERROR(CL_ERR_MEM, "out of memory allocating %zu bytes of neuron state", bytes);
  memset(block, 0, bytes);
  double **arrays[7] = {&s->V_m, &s->g_ex, &s->x_ex, &s->g_in, &s->x_in, &s->t_ref_end, &s->k1};
  for (size_t a = 0; a < n_arrays; a++)
    *arrays[a] = (double *)(block + a * stride);
  if (resident)
    s->tre_min = (double *)(block + n_arrays * stride); /* (the next offset modulo 4 KiB) */
  s->n = n;
  cl_neuron_state_clear_refractory(s);
  return CL_OK;
}

/* Sets the bounds of tre_min of the neurons [0, n) to b. */
static void set_tre_min(cl_neuron_state *s, double b) {
  if (s->tre_min)
    for (size_t g = 0; g < (s->n + CL_TRE_GROUP - 1) / CL_TRE_GROUP; g++)
      s->tre_min[g] = b;
}

void cl_neuron_state_clear_refractory(cl_neuron_state *s) {
  for (size_t i = 0; i < s->n; i++)
    s->t_ref_end[i] = INFINITY;
  set_tre_min(s, INFINITY);
}

void cl_neuron_state_export(const cl_neuron_kernel *k, cl_neuron_state *s) {
  for (size_t i = 0; i < s->n; i++) {
    if (s->V_m[i] != s->V_m[i])
      s->V_m[i] = k->p.V_reset;
    else
      s->t_ref_end[i] = -INFINITY;
  }
}

void cl_neuron_state_import(const cl_neuron_kernel *k, cl_neuron_state *s, int64_t step) {
  const double t0 = (double)step * k->dt;
  s->settled = 0;
  s->k1_set = 0;
  set_tre_min(s, -INFINITY);
  for (size_t i = 0; i < s->n; i++) {
    if (s->t_ref_end[i] >= t0 && s->t_ref_end[i] < INFINITY)
      s->V_m[i] = NAN;
    else
      s->t_ref_end[i] = INFINITY;
  }
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

/* ---- pass two: the flagged neurons, in lanes ---- */

/* The halved coefficients of one (sub)interval (see the top): alpha (mV) and beta at its start,
 * midpoint and end. */
typedef struct {
  double a0, b0, ah, bh, a1, b1;
} coefs;

/* u over an interval where z > 1 at one of its points (RK4 does not hold): the exponential
 * update with the midpoint's u_inf = alpha/beta and z = 2 beta. */
static double exp_update(double u, const coefs *c) {
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
     * to about 1e-18. A step that leaves [0, 1] hands over to the safeguarded loop below. (The
     * vector pass two, v_root, takes the first two steps in lanes and calls this where they
     * are not enough.) */
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

/* exp(x) for x <= 709, in CL_W lanes: x = k ln 2 + r with |r| <= ln(2)/2 (k by rounding with
 * CL_EXP_SHIFTER, ln 2 in two parts, fdlibm's), e^r by its Taylor polynomial of degree 13
 * (truncation below 1e-17 relative), times 2^k. Within 2 ulp of libm's exp (test_neuron);
 * below -708 it returns exp(-708), about 3e-308: pass two only multiplies conductances by it.
 * Pass two's partial intervals take their exp from here alone, so an event's result does not
 * depend on its lane nor on the build's vector width. */
static inline vd v_exp(vd x) {
  static const double c[14] = {1.0,
                               1.0,
                               1.0 / 2.0,
                               1.0 / 6.0,
                               1.0 / 24.0,
                               1.0 / 120.0,
                               1.0 / 720.0,
                               1.0 / 5040.0,
                               1.0 / 40320.0,
                               1.0 / 362880.0,
                               1.0 / 3628800.0,
                               1.0 / 39916800.0,
                               1.0 / 479001600.0,
                               1.0 / 6227020800.0};
  x = v_max(x, v_set(-708.0));
  const vd t = v_fma(x, v_set(0x1.71547652b82fep0), v_set(CL_EXP_SHIFTER));
  const vd kk = t - v_set(CL_EXP_SHIFTER);
  const vd r = v_fnma(kk, v_set(0x1.a39ef35793c76p-33), v_fnma(kk, v_set(0x1.62e42feep-1), x));
  vd q = v_set(c[13]);
  for (int j = 12; j >= 0; j--)
    q = v_fma(q, r, v_set(c[j]));
  return q * v_pow2k(t);
}

double cl_neuron_exp(double x) {
  double in[CL_W], out[CL_W];
  for (int l = 0; l < CL_W; l++)
    in[l] = x;
  v_store(out, v_exp(v_load(in)));
  return out[0];
}

/* The constants of pass two's vector code (rare_pass), for one step: scalars, broadcast where
 * they are used (AVX-512 takes them as memory operands; against a struct of vectors, 46 stores per
 * call, bench_neuron's COBA and rare-pass cases are the same within the noise). */
typedef struct {
  double h, t0, t1, rc2, rh, g_L, a_rest, de_in, eex, vth, vreset, t_ref, ex_rate, in_rate;
  double aex_h, ain_h;
  double de0, di0, de2, di2; /* stored g, x into nS at t_n, t_{n+1} */
  double hc2, zl2, al2, ai0, aih, ai1, ce0, ceh, ce1, ci0, cih, ci1; /* pass one's */
  double tre_grid; /* grid mode: the refractory end of a spike */
  int precise;
} pconsts;

static pconsts make_pconsts(const cl_neuron_kernel *k, const stepc *sc, int64_t step) {
  const double *c = k->c;
  const double h = k->dt;
  const pconsts P = {.h = h,
                     .t0 = (double)step * h,
                     .t1 = (double)(step + 1) * h,
                     .rc2 = c[K_RC2],
                     .rh = c[K_RH],
                     .g_L = k->p.g_L,
                     .a_rest = c[K_A_REST],
                     .de_in = c[K_DE_IN],
                     .eex = c[K_EEX],
                     .vth = k->p.V_th,
                     .vreset = k->p.V_reset,
                     .t_ref = k->p.t_ref,
                     .ex_rate = -0.5 * c[K_RTAU_EX],
                     .in_rate = -0.5 * c[K_RTAU_IN],
                     .aex_h = c[K_AEX_H],
                     .ain_h = c[K_AIN_H],
                     .de0 = sc->de[0],
                     .di0 = sc->di[0],
                     .de2 = sc->de[2],
                     .di2 = sc->di[2],
                     .hc2 = c[K_HC2],
                     .zl2 = c[K_ZL2],
                     .al2 = c[K_AL2],
                     .ai0 = sc->ai[0],
                     .aih = sc->ai[1],
                     .ai1 = sc->ai[2],
                     .ce0 = sc->ce[0],
                     .ceh = sc->ce[1],
                     .ce1 = sc->ce[2],
                     .ci0 = sc->ci[0],
                     .cih = sc->ci[1],
                     .ci1 = sc->ci[2],
                     .tre_grid = (double)(step + 1 + (int64_t)c[K_NREF]) * h,
                     .precise = c[K_PRECISE] != 0.0};
  return P;
}

/* The stored state of CL_W flagged neurons at t_n (inputs added), the stimulus at the step's
 * three points and pass one's RK4 result. */
typedef struct {
  vd V, tre, ge, xe, gi, xi, I0, Ih, I1, Vn;
} lanes;

/* One RK4 step of u over an interval, in lanes; cf = {a0, b0, ah, bh, a1, b1}. The stages are
 * formed as K2 = (alpha_h - beta_h u) - beta_h K1, K3 = (alpha_h - beta_h u) - beta_h K2,
 * K4 = (alpha1 - beta1 u) - 2 beta1 K3: the same numbers as K = alpha - beta (u + ...), but the
 * chain from K1 to K4 is one FMA per stage (the vector pass's latency). The sum is formed with
 * additions, u + ((2 (K2 + K3) + K1) + K4)/3, the part without K4 while K4 is computed: one FMA
 * instead of four, the other three for the add pipes, which the vector pass leaves idler than
 * the FMA pipes (see the cost at the top). The same operations as pass one's. */
static inline vd v_rk4(vd y, const vd cf[6]) {
  const vd ch = v_fnma(cf[3], y, cf[2]), c1 = v_fnma(cf[5], y, cf[4]), b1x2 = cf[5] + cf[5];
  const vd k1 = v_fnma(cf[1], y, cf[0]);
  const vd k2 = v_fnma(cf[3], k1, ch);
  const vd k3 = v_fnma(cf[3], k2, ch);
  const vd p23 = k2 + k3;
  const vd k4 = v_fnma(b1x2, k3, c1);
  const vd pre = (p23 + p23) + k1;
  return v_fma(pre + k4, v_set(1.0 / 3.0), y);
}

/* The whole step's coefficients in lanes: pass one's operations (vector_one); *a1_rest is
 * alpha1 without the current (pass one's a1 where it keeps K1). */
static inline void v_full_coefs(const lanes *L, const pconsts *P, vd cf[6], vd *a1_rest) {
  const vd geh = L->ge + L->xe, gih = L->gi + L->xi, ge1 = geh + L->xe, gi1 = gih + L->xi;
  *a1_rest = v_fma(v_set(P->ai1), gi1, v_set(P->al2)); /* alpha1 without the current */
  cf[0] = v_fma(v_set(P->hc2), L->I0, v_fma(v_set(P->ai0), L->gi, v_set(P->al2)));
  cf[1] = v_fma(v_set(P->ce0), L->ge, v_fma(v_set(P->ci0), L->gi, v_set(P->zl2)));
  cf[2] = v_fma(v_set(P->hc2), L->Ih, v_fma(v_set(P->aih), gih, v_set(P->al2)));
  cf[3] = v_fma(v_set(P->ceh), geh, v_fma(v_set(P->cih), gih, v_set(P->zl2)));
  cf[4] = v_fma(v_set(P->hc2), L->I1, *a1_rest);
  cf[5] = v_fma(v_set(P->ce1), ge1, v_fma(v_set(P->ci1), gi1, v_set(P->zl2)));
}

/* The coefficients cf of the intervals [u0, h] (u0 in [0, h)) and V at their end from Va by RK4,
 * in lanes: the conductances propagated exactly from their values at t_n, the stimulus from its
 * quadratic through I0, Ih, I1. One exp per receptor: with f = exp(-u0/(2 tau)), the decay to u0
 * is f^2 and to the midpoint (u0 + h)/2 it is f exp(-h/(2 tau)). Where z > 1 at one of the
 * points (huge_lanes) RK4 does not hold: the caller takes exp_update() there (fix_huge). */
static inline void v_partial(const lanes *L, vd u0, vd Va, const pconsts *P, vd cf[6], vd *V1) {
  /* the values (nS) at t_n and t_{n+1} of the stored, scaled conductances */
  const vd ge = v_set(P->de0) * L->ge, xe = v_set(P->de0) * L->xe, gi = v_set(P->di0) * L->gi,
           xi = v_set(P->di0) * L->xi;
  const vd ge1 = v_set(P->de2) * ((L->ge + L->xe) + L->xe),
           gi1 = v_set(P->di2) * ((L->gi + L->xi) + L->xi);
  const vd Iq1 = (v_set(4.0) * L->Ih - v_set(3.0) * L->I0) - L->I1;
  const vd Iq2 = v_set(2.0) * ((L->I0 + L->I1) - v_set(2.0) * L->Ih);
  const vd LC2 = v_max(v_set(P->h) - u0, v_set(0.0)) * v_set(P->rc2);
  const vd fe = v_exp(u0 * v_set(P->ex_rate)), fi = v_exp(u0 * v_set(P->in_rate));
  const vd times[2] = {u0, v_set(0.5) * (u0 + v_set(P->h))};
  const vd dE[2] = {fe * fe, fe * v_set(P->aex_h)}, dI[2] = {fi * fi, fi * v_set(P->ain_h)};
  for (int q = 0; q < 2; q++) {
    const vd s = times[q] * v_set(P->rh),
             s2 = v_set(2.0) * s; /* (u/tau) x: x is stored times h/(2 tau) */
    const vd gq = dE[q] * v_fma(s2, xe, ge), gj = dI[q] * v_fma(s2, xi, gi);
    const vd Is = v_fma(v_fma(Iq2, s, Iq1), s, L->I0);
    cf[2 * q] = LC2 * (v_fma(gj, v_set(P->de_in), v_set(P->a_rest)) + Is);
    cf[2 * q + 1] = LC2 * ((v_set(P->g_L) + gq) + gj);
  }
  cf[4] = LC2 * (v_fma(gi1, v_set(P->de_in), v_set(P->a_rest)) + L->I1);
  cf[5] = LC2 * ((v_set(P->g_L) + ge1) + gi1);
  const vd y = Va - v_set(P->eex);
  *V1 = v_rk4(y, cf) + v_set(P->eex);
}

/* The lanes of `huge` (z > 1 somewhere) take the exponential update from Va instead of V1's RK4
 * result (exp_update(), scalar: rare). */
static inline vd fix_huge(unsigned huge, vd V1, vd Va, const vd cf[6], double E_ex) {
  if (!huge)
    return V1;
  double c6[6][CL_W], va[CL_W], v1[CL_W];
  for (int q = 0; q < 6; q++)
    v_store(c6[q], cf[q]);
  v_store(va, Va);
  v_store(v1, V1);
  for (unsigned b = huge; b; b &= b - 1) {
    const int l = __builtin_ctz(b);
    const coefs c = {c6[0][l], c6[1][l], c6[2][l], c6[3][l], c6[4][l], c6[5][l]};
    v1[l] = exp_update(va[l] - E_ex, &c) + E_ex;
  }
  return v_load(v1);
}

/* ---- pass one: the vector pass ---- */

/* The save area: up to CL_SAVE vectors that have flagged lanes, with what pass one overwrites of
 * their state at t_n (inputs added) and its RK4 result. Pass two reads their refractory end and
 * x from the state: pass one leaves the one and stores the other with the step's inputs added
 * (three vector stores fewer per flagged vector than saving them too; bench_neuron COBA medians
 * 0.814 -> 0.809 ns per neuron-step at 4000, 0.836 -> 0.830 at 40 000, within the noise). */
enum { S_V, S_GE, S_GI, S_VN, S_COUNT };
typedef struct {
  size_t count;
  size_t first[CL_SAVE];  /* index of the vector's lane 0 */
  unsigned bits[CL_SAVE]; /* flagged lanes */
  double v[CL_SAVE][S_COUNT][CL_W];
} save_area;

/* The arrays pass one reads and writes, offset so that element i is neuron base + i. */
typedef struct {
  double *V_m, *g_ex, *x_ex, *g_in, *x_in;
  double *k1; /* cl_neuron_state.k1 (the `keep` and `carry` instances only) */
  const double *tre;
  float *in_ex, *in_in;
  const double *I0, *Ih, *I1;
  size_t n;    /* elements */
  size_t base; /* index of element 0 in the state (the tail runs on padded copies) */
  /* the bound of tre over elements i to i + CL_TRE_GROUP - 1 (i a multiple of it) is
   * tmin[i / CL_TRE_GROUP] (cl_neuron_state.tre_min; NULL: none) */
  double *tmin;
} arrays;

/* The step's constants, one per vector register. */
typedef struct {
  vd wex, win, b1m, ce0, ceh, ce1, ci0, cih, ci1, ai0, aih, ai1;
  vd hc2, zl2, al2, eex, vthm, uthm, t1;
} vconsts;

static vconsts make_vconsts(const cl_neuron_kernel *k, const stepc *sc, int64_t step) {
  const double *c = k->c;
  const double t1 = (double)(step + 1) * k->dt;
  const vconsts K = {v_set(sc->wex),   v_set(sc->win),   v_set(c[K_B1M]),  v_set(sc->ce[0]),
                     v_set(sc->ce[1]), v_set(sc->ce[2]), v_set(sc->ci[0]), v_set(sc->ci[1]),
                     v_set(sc->ci[2]), v_set(sc->ai[0]), v_set(sc->ai[1]), v_set(sc->ai[2]),
                     v_set(c[K_HC2]),  v_set(c[K_ZL2]),  v_set(c[K_AL2]),  v_set(c[K_EEX]),
                     v_set(c[K_VTHM]), v_set(c[K_UTHM]), v_set(t1)};
  return K;
}

/* Large populations stream through memory, and the hardware prefetchers alone left the loop
 * waiting on it (at 1e6 neurons the step took about the sum of its in-cache time and the time to
 * stream its arrays); prefetching CL_PREFETCH elements ahead of element i overlaps the two
 * (bench_neuron, Zen 5: 2.7 -> 2.35 ns per neuron-step; 4 or 16 KB ahead gained nothing). */
static inline __attribute__((always_inline)) void
prefetch_ahead(const arrays *A, size_t i, const int has_ex, const int has_in, const int keep) {
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
  if (keep)
    __builtin_prefetch(A->k1 + sa, 1, 3);
}

/* Pass one on the vector from element i: see the top. The order keeps the dependency chain
 * short and few values live across it (32 vector registers hold the constants and the values in
 * flight): the RK4 stages are one FMA apart, and the parts of the flag that do not need V_end
 * are formed as soon as the coefficients are. (Interleaving two vectors per iteration, to give
 * the core more independent work, was slower once the chain was short: register spills.) */
static inline __attribute__((always_inline)) void
vector_one(const vconsts *K, const arrays *A, size_t i, save_area *sv, size_t *count,
           const int has_ex, const int has_in, const int has_I, const int prefetch, const int start,
           const int e0, const int keep, const int carry, const int ends, const int save_all) {
  const vd zero = v_set(0.0);
  if (prefetch)
    prefetch_ahead(A, i, has_ex, has_in, keep);
  /* the state at t_n with this step's input (scaled, see cl_scale: X is constant over the step,
   * G grows by (u/tau) X); the scaled conductances at the midpoint and the end, and the halved
   * coefficients at the three points, with the factors back to nS in the step's constants
   * (v_full_coefs() is their twin in pass two) */
  const vd V = v_load(A->V_m + i);
  vd ge = v_load(A->g_ex + i), gi = v_load(A->g_in + i);
  vd xe = v_load(A->x_ex + i), xi = v_load(A->x_in + i);
  if (has_ex)
    xe = v_fma(K->wex, v_loadf(A->in_ex + i), xe);
  if (has_in)
    xi = v_fma(K->win, v_loadf(A->in_in + i), xi);
  vd geh = ge + xe, gih = gi + xi;
  vd ge1 = geh + xe, gi1 = gih + xi;
  vd a0 = zero, b0 = zero; /* (alpha0 and beta0 only where K1 is not carried) */
  if (!carry) {
    a0 = v_fma(K->ai0, gi, K->al2);
    b0 = v_fma(K->ce0, ge, v_fma(K->ci0, gi, K->zl2));
  }
  vd ah = v_fma(K->aih, gih, K->al2);
  vd a1 = v_fma(K->ai1, gi1, K->al2);
  vd bh = v_fma(K->ceh, geh, v_fma(K->cih, gih, K->zl2));
  vd b1 = v_fma(K->ce1, ge1, v_fma(K->ci1, gi1, K->zl2));
  if (has_I) { /* (never with keep or carry: the current's jumps make I1 and the next I0 differ) */
    a0 = v_fma(K->hc2, v_load(A->I0 + i), a0);
    ah = v_fma(K->hc2, v_load(A->Ih + i), ah);
    a1 = v_fma(K->hc2, v_load(A->I1 + i), a1);
  }
  /* Flagged: score > 0, where score > 0 <=> V_end >= V_th, or V_start >= V_th in precise
   * mode unless the state is settled (`start`), or beta1 > K_B1M (implied by any beta > 1/2),
   * or, where `ends` (the vector's bound of tre is below t_{n+1}, see vector_pass), tre <
   * t_{n+1} (a held neuron's refractoriness ends in the step; tre = +inf for the
   * others): each difference is > 0 exactly when its comparison holds (IEEE subtraction is
   * monotone and exact at 0), and score is their max, compared once. A held neuron's V is NaN
   * (cl_neuron_state): its V terms are NaN and MAXPD returns the second operand for a NaN first
   * one (they come first), so neither flags it, and its NaN result is stored back as it is: no
   * refractory test and no masked store. All but the V_end term now, off the RK4 chain; the
   * V_end term is u_end - K_UTHM (one operation after the chain's end, before E_ex is added
   * back), which flags a superset of V_end >= V_th. Pass two decides both supersets exactly.
   * With E_ex = 0 (`e0`: u is V, exactly) the two additions of E_ex go, and the flag is the
   * sign bit of the min of the negated differences (MINPD returns its second operand for a NaN
   * first one, as MAXPD does): no compare on the FMA pipes, which then carry 16 operations per
   * vector and the add pipes 15. None of the differences is -0 (see K_B1M, K_UTHM). */
  vd early, y = V;
  if (e0) {
    early = K->b1m - b1;
    if (ends) /* (see vector_pass) */
      early = v_min(early, v_load(A->tre + i) - K->t1);
    if (start) /* (precise mode only) */
      early = v_min(K->vthm - V, early);
  } else {
    early = b1 - K->b1m;
    if (ends)
      early = v_max(early, K->t1 - v_load(A->tre + i));
    if (start)
      early = v_max(V - K->vthm, early);
    y = V - K->eex;
  }
  /* RK4 on u = V - E_ex, arranged for a short dependency chain (v_rk4() above is the
   * twin, see there) */
  vd ch = v_fnma(bh, y, ah), c1 = v_fnma(b1, y, a1), b1x2 = b1 + b1;
  const vd third = v_set(1.0 / 3.0);
  /* K1 as the last step left it (keep, below: the same operations on the same numbers within
   * an epoch, see cl_neuron_step), or formed here */
  vd k1 = carry ? v_load(A->k1 + i) : v_fnma(b0, y, a0);
  vd k2 = v_fnma(bh, k1, ch);
  vd k3 = v_fnma(bh, k2, ch);
  vd p23 = k2 + k3;
  vd k4 = v_fnma(b1x2, k3, c1);
  vd pre = (p23 + p23) + k1;
  const vd un = v_fma(pre + k4, third, y);
  vd Vn = un;
  unsigned flag; /* (a held neuron's un is NaN: v_max and v_min then return early) */
  if (e0) {
    flag = v_neg_bits(v_min(K->uthm - un, early));
  } else {
    Vn = un + K->eex;
    flag = v_bits_gt(v_all(), v_max(un - K->uthm, early), zero);
  }
  if (save_all || flag) { /* rare: keep what pass two needs (see vector_pass for save_all) */
    size_t slot = (*count)++;
    sv->first[slot] = A->base + i;
    sv->bits[slot] = flag;
    const vd saved[S_COUNT] = {V, ge, gi, Vn};
    for (int q = 0; q < S_COUNT; q++)
      v_store(sv->v[slot][q], saved[q]);
  }
  /* Every store is unconditional: a flagged neuron's V is overwritten by pass two, and its
   * conductances are the same on both paths. X changes only with an input row. K1 of the next
   * step: alpha1 - beta1 u' with u' as that step forms it from the stored V (pass two
   * overwrites a flagged neuron's). */
  if (keep) {
    vd yn = Vn;
    if (!e0)
      yn = Vn - K->eex;
    v_store(A->k1 + i, v_fnma(b1, yn, a1));
  }
  v_store(A->V_m + i, Vn);
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

/* The least of tre[a], ..., tre[b - 1] for the neurons a = g CL_TRE_GROUP to b (at most n) of
 * group g: its exact bound (cl_neuron_state.tre_min), as pass one and pass two make it. */
static double group_min(const double *tre, size_t n, size_t g) {
  const size_t a = g * CL_TRE_GROUP, b = a + CL_TRE_GROUP < n ? a + CL_TRE_GROUP : n;
  double m = INFINITY;
  for (size_t j = a; j < b; j++)
    m = tre[j] < m ? tre[j] : m;
  return m;
}

/* Pass one over the whole vectors of elements [i, end) (a multiple of CL_W apart) until the save
 * area cannot take another group; returns the element reached. */
static inline __attribute__((always_inline)) size_t
vector_pass(const cl_neuron_kernel *k, const stepc *sc, int64_t step, const arrays *A0, size_t i,
            size_t end, save_area *sv, const int has_ex, const int has_in, const int has_I,
            const int prefetch, const int start, const int e0, const int keep, const int carry) {
  /* Constants and pointers in locals: the vector stores may alias anything in memory. */
  const vconsts K = make_vconsts(k, sc, step);
  const arrays A = *A0;
  size_t count = sv->count; /* (a local: the vector stores may alias sv) */
  if (!A.tmin) {            /* no bounds: every vector's flag has the refractory term */
    for (; i + CL_W <= end && count < CL_SAVE; i += CL_W)
      vector_one(&K, &A, i, sv, &count, has_ex, has_in, has_I, prefetch, start, e0, keep, carry, 1,
                 0);
    sv->count = count;
    return i;
  }
  /* A vector whose group's bound of tre (tmin) is below t_{n+1} may hold an end of
   * refractoriness: it takes the flag's refractory term and goes to the save area whatever its
   * flag (the branch on the bound, mispredicted, costs a refetch: it resolves as soon as the
   * bound is loaded), and its group's bound is made exact again, so that a bound lowered from
   * outside (cl_neuron_state_import: -inf) stops sending the group here (pass two makes the
   * bounds of the groups it writes exact after that). Every other vector leaves the term out:
   * no tre in it ends before t_{n+1}. tmin < t1 is compared as integers (t1 > 0: a double below
   * it, -0 and -inf included, has the lower bits as a signed integer), off the FP pipes. */
  const double t1 = (double)(step + 1) * k->dt; /* (K.t1's lanes) */
  int64_t t1_bits;
  memcpy(&t1_bits, &t1, sizeof t1_bits);
  for (; i + CL_W <= end && count < CL_SAVE; i += CL_W) {
    double *const tmin = A.tmin + i / CL_TRE_GROUP;
    int64_t tmin_bits;
    memcpy(&tmin_bits, tmin, sizeof tmin_bits);
    if (tmin_bits < t1_bits) { /* rare: a refractoriness may end in the step */
      vector_one(&K, &A, i, sv, &count, has_ex, has_in, has_I, prefetch, start, e0, keep, carry, 1,
                 1);
      if ((i / CL_TRE_GROUP + 1) * CL_TRE_GROUP <= A.n) /* the group's bound, exact again */
        *tmin = group_min(A.tre, A.n, i / CL_TRE_GROUP);
    } else {
      vector_one(&K, &A, i, sv, &count, has_ex, has_in, has_I, prefetch, start, e0, keep, carry, 0,
                 0);
    }
  }
  sv->count = count;
  return i;
}

/* One instance of pass one per input combination, prefetching, start test and form of K1 (not
 * inlined: its loop gets the registers), indexed by has_ex | has_in << 1 | form << 2 |
 * prefetch << 4 | start << 5 | e0 << 6, where form is 0 (K1 formed, not kept), 1 (a current:
 * the same, with I), 2 (K1 formed and kept for the next step) or 3 (K1 carried and kept). */
typedef size_t pass_fn(const cl_neuron_kernel *k, const stepc *sc, int64_t step, const arrays *A,
                       size_t i, size_t end, save_area *sv);
#define CL_VECTOR_PASS(v)                                                                          \
  static __attribute__((noinline))                                                                 \
  size_t pass_##v(const cl_neuron_kernel *k, const stepc *sc, int64_t step, const arrays *A,       \
                  size_t i, size_t end, save_area *sv) {                                           \
    return vector_pass(k, sc, step, A, i, end, sv, (v)&1, (v) >> 1 & 1, ((v) >> 2 & 3) == 1,       \
                       (v) >> 4 & 1, (v) >> 5 & 1, (v) >> 6 & 1, ((v) >> 2 & 3) >= 2,              \
                       ((v) >> 2 & 3) == 3);                                                       \
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
CL_VECTOR_PASS(16)
CL_VECTOR_PASS(17)
CL_VECTOR_PASS(18)
CL_VECTOR_PASS(19)
CL_VECTOR_PASS(20)
CL_VECTOR_PASS(21)
CL_VECTOR_PASS(22)
CL_VECTOR_PASS(23)
CL_VECTOR_PASS(24)
CL_VECTOR_PASS(25)
CL_VECTOR_PASS(26)
CL_VECTOR_PASS(27)
CL_VECTOR_PASS(28)
CL_VECTOR_PASS(29)
CL_VECTOR_PASS(30)
CL_VECTOR_PASS(31)
CL_VECTOR_PASS(32)
CL_VECTOR_PASS(33)
CL_VECTOR_PASS(34)
CL_VECTOR_PASS(35)
CL_VECTOR_PASS(36)
CL_VECTOR_PASS(37)
CL_VECTOR_PASS(38)
CL_VECTOR_PASS(39)
CL_VECTOR_PASS(40)
CL_VECTOR_PASS(41)
CL_VECTOR_PASS(42)
CL_VECTOR_PASS(43)
CL_VECTOR_PASS(44)
CL_VECTOR_PASS(45)
CL_VECTOR_PASS(46)
CL_VECTOR_PASS(47)
CL_VECTOR_PASS(48)
CL_VECTOR_PASS(49)
CL_VECTOR_PASS(50)
CL_VECTOR_PASS(51)
CL_VECTOR_PASS(52)
CL_VECTOR_PASS(53)
CL_VECTOR_PASS(54)
CL_VECTOR_PASS(55)
CL_VECTOR_PASS(56)
CL_VECTOR_PASS(57)
CL_VECTOR_PASS(58)
CL_VECTOR_PASS(59)
CL_VECTOR_PASS(60)
CL_VECTOR_PASS(61)
CL_VECTOR_PASS(62)
CL_VECTOR_PASS(63)
CL_VECTOR_PASS(64)
CL_VECTOR_PASS(65)
CL_VECTOR_PASS(66)
CL_VECTOR_PASS(67)
CL_VECTOR_PASS(68)
CL_VECTOR_PASS(69)
CL_VECTOR_PASS(70)
CL_VECTOR_PASS(71)
CL_VECTOR_PASS(72)
CL_VECTOR_PASS(73)
CL_VECTOR_PASS(74)
CL_VECTOR_PASS(75)
CL_VECTOR_PASS(76)
CL_VECTOR_PASS(77)
CL_VECTOR_PASS(78)
CL_VECTOR_PASS(79)
CL_VECTOR_PASS(80)
CL_VECTOR_PASS(81)
CL_VECTOR_PASS(82)
CL_VECTOR_PASS(83)
CL_VECTOR_PASS(84)
CL_VECTOR_PASS(85)
CL_VECTOR_PASS(86)
CL_VECTOR_PASS(87)
CL_VECTOR_PASS(88)
CL_VECTOR_PASS(89)
CL_VECTOR_PASS(90)
CL_VECTOR_PASS(91)
CL_VECTOR_PASS(92)
CL_VECTOR_PASS(93)
CL_VECTOR_PASS(94)
CL_VECTOR_PASS(95)
CL_VECTOR_PASS(96)
CL_VECTOR_PASS(97)
CL_VECTOR_PASS(98)
CL_VECTOR_PASS(99)
CL_VECTOR_PASS(100)
CL_VECTOR_PASS(101)
CL_VECTOR_PASS(102)
CL_VECTOR_PASS(103)
CL_VECTOR_PASS(104)
CL_VECTOR_PASS(105)
CL_VECTOR_PASS(106)
CL_VECTOR_PASS(107)
CL_VECTOR_PASS(108)
CL_VECTOR_PASS(109)
CL_VECTOR_PASS(110)
CL_VECTOR_PASS(111)
CL_VECTOR_PASS(112)
CL_VECTOR_PASS(113)
CL_VECTOR_PASS(114)
CL_VECTOR_PASS(115)
CL_VECTOR_PASS(116)
CL_VECTOR_PASS(117)
CL_VECTOR_PASS(118)
CL_VECTOR_PASS(119)
CL_VECTOR_PASS(120)
CL_VECTOR_PASS(121)
CL_VECTOR_PASS(122)
CL_VECTOR_PASS(123)
CL_VECTOR_PASS(124)
CL_VECTOR_PASS(125)
CL_VECTOR_PASS(126)
CL_VECTOR_PASS(127)
static pass_fn *const vector_passes[128] = {
    pass_0,   pass_1,   pass_2,   pass_3,   pass_4,   pass_5,   pass_6,   pass_7,   pass_8,
    pass_9,   pass_10,  pass_11,  pass_12,  pass_13,  pass_14,  pass_15,  pass_16,  pass_17,
    pass_18,  pass_19,  pass_20,  pass_21,  pass_22,  pass_23,  pass_24,  pass_25,  pass_26,
    pass_27,  pass_28,  pass_29,  pass_30,  pass_31,  pass_32,  pass_33,  pass_34,  pass_35,
    pass_36,  pass_37,  pass_38,  pass_39,  pass_40,  pass_41,  pass_42,  pass_43,  pass_44,
    pass_45,  pass_46,  pass_47,  pass_48,  pass_49,  pass_50,  pass_51,  pass_52,  pass_53,
    pass_54,  pass_55,  pass_56,  pass_57,  pass_58,  pass_59,  pass_60,  pass_61,  pass_62,
    pass_63,  pass_64,  pass_65,  pass_66,  pass_67,  pass_68,  pass_69,  pass_70,  pass_71,
    pass_72,  pass_73,  pass_74,  pass_75,  pass_76,  pass_77,  pass_78,  pass_79,  pass_80,
    pass_81,  pass_82,  pass_83,  pass_84,  pass_85,  pass_86,  pass_87,  pass_88,  pass_89,
    pass_90,  pass_91,  pass_92,  pass_93,  pass_94,  pass_95,  pass_96,  pass_97,  pass_98,
    pass_99,  pass_100, pass_101, pass_102, pass_103, pass_104, pass_105, pass_106, pass_107,
    pass_108, pass_109, pass_110, pass_111, pass_112, pass_113, pass_114, pass_115, pass_116,
    pass_117, pass_118, pass_119, pass_120, pass_121, pass_122, pass_123, pass_124, pass_125,
    pass_126, pass_127,
};

static inline vd v_cubic(const vd q[4], vd s) {
  return v_fma(v_fma(v_fma(q[3], s, q[2]), s, q[1]), s, q[0]);
}

/* Halley's step 2 q q' / (2 q'^2 - q q'') in lanes: the operations of first_root()'s. */
static inline vd v_halley(const vd q[4], vd s) {
  const vd qa = v_set(3.0) * q[3], qb = v_set(2.0) * q[2], qc = q[1];
  const vd f = v_cubic(q, s), d1 = v_fma(v_fma(qa, s, qb), s, qc),
           d2 = v_fma(v_set(2.0) * qa, s, qb);
  return v_set(2.0) * f * d1 / (v_set(2.0) * d1 * d1 - f * d2);
}

/* The first root in [0, 1] of the cubics q in the lanes of `want` (q(0) < 0 <= q(1)): where q
 * rises on [0, 1] (the usual case), two Halley steps from the secant point, as first_root() begins,
 * in lanes and without a branch between them; the lanes where that is not surely converged (the
 * second step above 1e-6, an iterate outside [0, 1], q not monotone) take first_root(). */
static inline vd v_root(const vd q[4], unsigned want) {
  const vd one = v_set(1.0), zero = v_set(0.0);
  const vd qa = v_set(3.0) * q[3], qb = v_set(2.0) * q[2], qc = q[1];
  const vd disc = qb * qb - v_set(4.0) * qa * qc;
  const vd s0 = -q[0] / (v_cubic(q, one) - q[0]);
  const vd s1 = s0 - v_halley(q, s0);
  const vd st = v_halley(q, s1), s2 = s1 - st;
  const unsigned monotone = v_bits_gt(v_all(), qc, zero) &
                            v_bits_gt(v_all(), (qa + qb) + qc, zero) &
                            (v_ge_bits(zero, qa) | v_bits_gt(v_all(), zero, disc) |
                             v_ge_bits(qb, zero) | v_ge_bits(-qb, v_set(2.0) * qa));
  const unsigned ok = monotone & v_bits_gt(v_all(), s0, zero) & v_bits_gt(v_all(), one, s0) &
                      v_bits_gt(v_all(), s1, zero) & v_bits_gt(v_all(), one, s1) &
                      v_ge_bits(v_set(1e-6), v_max(st, -st)) & v_ge_bits(s2, zero) &
                      v_ge_bits(one, s2);
  const unsigned slow = want & ~ok;
  if (!slow)
    return s2;
  double qs[4][CL_W], r[CL_W];
  for (int j = 0; j < 4; j++)
    v_store(qs[j], q[j]);
  v_store(r, s2);
  for (unsigned b = slow; b; b &= b - 1) {
    const int l = __builtin_ctz(b);
    const double ql[4] = {qs[0][l], qs[1][l], qs[2][l], qs[3][l]};
    r[l] = first_root(ql);
  }
  return v_load(r);
}

/* The lanes whose beta exceeds 1/2 at one of the interval's points (z > 1: RK4 does not hold). */
static inline unsigned huge_lanes(const vd cf[6]) {
  const vd m = v_set(CL_BETA_RK4_MAX);
  return v_bits_gt(v_all(), cf[1], m) | v_bits_gt(v_all(), cf[3], m) | v_bits_gt(v_all(), cf[5], m);
}

/* Pass two for CL_W flagged neurons (the lanes of `valid`): V and the refractory end at
 * t_{n+1} in the kernel's form (cl_neuron_state: V NaN while held), the spike time and the lanes
 * that spiked. See the top for the cases; in lanes, each case's result blended in where it
 * applies:
 *  - held (V NaN) through the step (tre >= t_{n+1}): V and tre unchanged;
 *  - held, refractoriness ending in the step: the rest [u0, h] of the step from V_reset
 *    (u0 = tre - t_n, or 0 when it ended at t_n), then a crossing;
 *  - precise mode, V at or above threshold at the start: a spike there, the reset, and the rest
 *    of the step from V_reset when refractoriness ends before its end;
 *  - else the whole step from the neuron's own V: pass one's RK4 result, then a crossing: in
 *    grid mode the spike at t_{n+1}; in precise mode at the first root of the cubic Hermite
 *    interpolant of V (values and slopes dV/ds = 2 (alpha - beta u) at both ends, s in [0, 1]
 *    over [u0, h]), the reset and, when refractoriness ends before t_{n+1}, the rest of the
 *    step from V_reset.
 * The rests of steps are v_partial's (conductances propagated exactly); where z > 1, the
 * exponential update. A neuron that ends the step refractory is held (V NaN, its tre); any
 * other one has tre = +inf. k1_out: the next step's K1 from V_out, as pass one forms it
 * (alpha1 and beta1 of the whole step, without a current: pass one keeps K1 only then). */
static inline void finish_lanes(const lanes *L, unsigned valid, const pconsts *P, vd *V_out,
                                vd *tre_out, vd *ts_out, unsigned *spiked, vd *k1_out) {
  const double E_ex = P->eex;
  const vd zero = v_set(0.0), t0 = v_set(P->t0), t1 = v_set(P->t1), vreset = v_set(P->vreset);
  const unsigned held = ~v_ge_bits(L->V, L->V) & valid; /* V is NaN */
  const unsigned refr = held & v_ge_bits(L->tre, t1);   /* through the step */
  const unsigned ends = held & ~refr;                   /* refractoriness ends in the step */
  vd u0 = v_blend(ends, zero, v_max(L->tre - t0, zero));
  const unsigned start = P->precise ? v_ge_bits(L->V, v_set(P->vth)) & valid : 0;
  vd ts = t0 + u0, tre = L->tre, Va = v_blend(held, L->V, vreset), V1 = L->Vn;
  unsigned active = valid & ~refr;
  if (start) {
    const vd tre_s = ts + v_set(P->t_ref);
    tre = v_blend(start, tre, tre_s);
    Va = v_blend(start, Va, vreset);
    active &= ~(start & v_ge_bits(tre_s, t1)); /* refractory to the step's end */
    u0 = v_blend(start, u0, tre_s - t0);       /* 0 when t_ref = 0 at the step's start */
  }
  vd cf[6], a1_rest;
  v_full_coefs(L, P, cf, &a1_rest);
  const vd b1_full = cf[5];
  /* refractoriness ended at t_n: the whole step from V_reset, by pass one's RK4 (what pass one
   * computes for a neuron that starts a step at V_reset); inside the step: the rest of it */
  const unsigned whole_reset = ends & ~v_bits_gt(v_all(), u0, zero);
  if (whole_reset)
    V1 = v_blend(whole_reset, V1, v_rk4(vreset - v_set(P->eex), cf) + v_set(P->eex));
  const unsigned part = (v_bits_gt(v_all(), u0, zero) | start) & active;
  if (part) {
    vd pc[6], pV1;
    v_partial(L, u0, Va, P, pc, &pV1);
    for (int q = 0; q < 6; q++)
      cf[q] = v_blend(part, cf[q], pc[q]);
    V1 = v_blend(part, V1, pV1);
  }
  V1 = fix_huge(huge_lanes(cf) & active, V1, Va, cf, E_ex);
  const unsigned cross = v_ge_bits(V1, v_set(P->vth)) & active & ~start;
  if (cross) {
    if (!P->precise) {
      ts = v_blend(cross, ts, t1);
      tre = v_blend(cross, tre, v_set(P->tre_grid));
    } else {
      const vd da = Va - v_set(P->vth), db = V1 - v_set(P->vth);
      const vd ma = v_set(2.0) * v_fnma(cf[1], Va - v_set(P->eex), cf[0]);
      const vd mb = v_set(2.0) * v_fnma(cf[5], V1 - v_set(P->eex), cf[4]);
      const vd q[4] = {da, ma, v_set(3.0) * (db - da) - v_set(2.0) * ma - mb,
                       v_set(2.0) * (da - db) + ma + mb};
      const vd sr = v_root(q, cross);
      const vd tsc = t0 + (u0 + sr * (v_set(P->h) - u0)), trn = tsc + v_set(P->t_ref);
      ts = v_blend(cross, ts, tsc);
      tre = v_blend(cross, tre, trn); /* held at the end (V NaN below) unless it ends before */
      const unsigned rest = v_bits_gt(v_all(), t1, trn) & cross;
      if (rest) {
        vd rc[6], rV1;
        v_partial(L, trn - t0, vreset, P, rc, &rV1);
        V1 = v_blend(rest, V1, fix_huge(huge_lanes(rc) & rest, rV1, vreset, rc, E_ex));
      }
    }
  }
  *spiked = start | cross;
  /* held at the step's end: refractory through it, or a spike whose refractoriness outlasts it */
  const unsigned held_out = refr | (*spiked & v_ge_bits(tre, t1));
  *V_out = v_blend(held_out, V1, v_set(NAN));
  *tre_out = v_blend(held_out, v_set(INFINITY), tre);
  *ts_out = ts;
  *k1_out = v_fnma(b1_full, *V_out - v_set(E_ex), a1_rest);
}

/* Pass two over the save area; empties it: the flagged lanes gathered into whole vectors
 * (structure of arrays, padding lanes zero) and finished CL_W at a time (finish_lanes). Returns
 * the number of spikes appended to spike_idx, spike_t (in increasing index). */
static size_t rare_pass(const cl_neuron_kernel *k, const stepc *sc, cl_neuron_state *s,
                        const cl_neuron_input *in, int64_t step, save_area *sv, uint32_t *spike_idx,
                        double *spike_t, const int keep) {
  enum { E_TRE = S_COUNT, E_XE, E_XI, E_I0, E_IH, E_I1, E_COUNT }; /* the saved fields first */
  if (sv->count == 0)
    return 0;
  double f[E_COUNT][CL_SAVE * CL_W];
  size_t idx[CL_SAVE * CL_W];
  size_t m = 0;
  for (size_t slot = 0; slot < sv->count; slot++) {
    double(*v)[CL_W] = sv->v[slot];
    for (unsigned bits = sv->bits[slot]; bits; bits &= bits - 1) {
      const int l = __builtin_ctz(bits);
      const size_t i = sv->first[slot] + (size_t)l;
      for (int q = 0; q < S_COUNT; q++)
        f[q][m] = v[q][l];
      f[E_TRE][m] = s->t_ref_end[i];
      f[E_XE][m] = s->x_ex[i];
      f[E_XI][m] = s->x_in[i];
      f[E_I0][m] = in->I0 ? in->I0[i] : 0.0;
      f[E_IH][m] = in->I0 ? in->Ih[i] : 0.0;
      f[E_I1][m] = in->I0 ? in->I1[i] : 0.0;
      idx[m++] = i;
    }
  }
  sv->count = 0;
  for (size_t j = m; j % CL_W; j++)
    for (int q = 0; q < E_COUNT; q++)
      f[q][j] = 0.0;
  const pconsts P = make_pconsts(k, sc, step);
  size_t nspikes = 0;
  for (size_t j = 0; j < m; j += CL_W) {
    const size_t w = m - j < CL_W ? m - j : CL_W;
    const lanes L = {v_load(f[S_V] + j),  v_load(f[E_TRE] + j), v_load(f[S_GE] + j),
                     v_load(f[E_XE] + j), v_load(f[S_GI] + j),  v_load(f[E_XI] + j),
                     v_load(f[E_I0] + j), v_load(f[E_IH] + j),  v_load(f[E_I1] + j),
                     v_load(f[S_VN] + j)};
    vd V1, tre, ts, k1;
    unsigned spiked;
    finish_lanes(&L, (1u << w) - 1, &P, &V1, &tre, &ts, &spiked, &k1);
    double o[4][CL_W];
    v_store(o[0], V1);
    v_store(o[1], tre);
    v_store(o[2], ts);
    v_store(o[3], k1);
    for (size_t l = 0; l < w; l++) {
      const size_t i = idx[j + l];
      s->V_m[i] = o[0][l];
      s->t_ref_end[i] = o[1][l];
      if (s->tre_min) /* the group's bound, exact (its other neurons' ends are in place) */
        s->tre_min[i / CL_TRE_GROUP] = group_min(s->t_ref_end, s->n, i / CL_TRE_GROUP);
      if (keep)
        s->k1[i] = o[3][l];
      spike_idx[nspikes] = (uint32_t)i; /* kept when it spiked (the arrays hold s->n) */
      spike_t[nspikes] = o[2][l];
      nspikes += spiked >> l & 1;
    }
  }
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
  /* the start-of-step threshold test, unless no neuron can start above threshold */
  const int start = k->c[K_PRECISE] != 0.0 && !(k->c[K_SETTLES] != 0.0 && s->settled);
  const uint64_t phases = (uint64_t)(k->n_phases - 1);
  const stepc *sc = &k->phase[(uint64_t)step & phases];
  /* K1 (cl_neuron_state.k1): kept for the next step where there is an array and no current
   * (a current's jumps at step boundaries make I1 and the next step's I0 differ), and carried
   * where the last step kept it, unless an epoch ended there: within an epoch the last step's
   * alpha1 and beta1 are the same operations on the same numbers as this step's alpha0 and
   * beta0 (the stored g are the last step's g1, and stepc's factors at t_{n+1} are the next
   * phase's at t_n), so the carried K1 is the formed one to the bit; after the renormalisation
   * the factors and the stored g are other numbers. */
  const stepc *last = &k->phase[(uint64_t)(step - 1) & phases];
  const int keep = s->k1 != NULL && !has_I;
  const int carry =
      keep && s->k1_set && s->k1_step == step && last->end_ex == 0.0 && last->end_in == 0.0;
  const int form = has_I ? 1 : carry ? 3 : keep ? 2 : 0;
  pass_fn *const pass =
      vector_passes[has_ex | has_in << 1 | form << 2 | (s->n > CL_PREFETCH_MIN) << 4 | start << 5 |
                    (k->c[K_EEX] == 0.0) << 6];
  const int epoch_end = sc->end_ex != 0.0 || sc->end_in != 0.0;
  const size_t n = s->n, n_full = n - n % CL_W;
  save_area sv;
  sv.count = 0;
  size_t nspikes = 0;
  const arrays A = {s->V_m,    s->g_ex, s->x_ex, s->g_in, s->x_in, s->k1, s->t_ref_end, in->in_ex,
                    in->in_in, in->I0,  in->Ih,  in->I1,  n,       0,     s->tre_min};
  size_t next_poll = CL_POLL_NEURONS;
  for (size_t i = 0; i < n_full;) {
    size_t end = n_full - i < CL_CHUNK ? n_full : i + CL_CHUNK;
    size_t reached = pass(k, sc, step, &A, i, end, &sv);
    nspikes += rare_pass(k, sc, s, in, step, &sv, spike_idx + nspikes, spike_t + nspikes, keep);
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
     * held for ever (V NaN, tre = +inf), so they are never flagged; their other arithmetic is
     * on zeros. */
    const size_t m = n - n_full;
    double buf[10][CL_W];
    float fbuf[2][CL_W] = {{0.0f}};
    for (int a = 0; a < 10; a++)
      for (size_t l = 0; l < CL_W; l++)
        buf[a][l] = a == 0 ? NAN : a == 5 ? INFINITY : 0.0;
    double *const state[6] = {s->V_m, s->g_ex, s->x_ex, s->g_in, s->x_in, s->t_ref_end};
    if (carry)
      memcpy(buf[9], s->k1 + n_full, m * sizeof(double));
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
    const arrays T = {buf[0],  buf[1], buf[2], buf[3], buf[4], buf[9], buf[5], fbuf[0],
                      fbuf[1], buf[6], buf[7], buf[8], CL_W,   n_full, NULL};
    pass(k, sc, step, &T, 0, CL_W, &sv);
    for (int a = 0; a < 5; a++)
      memcpy(state[a] + n_full, buf[a], m * sizeof(double));
    if (keep)
      memcpy(s->k1 + n_full, buf[9], m * sizeof(double));
    for (int a = 0; a < 2; a++)
      if (rows[a])
        memset(rows[a] + n_full, 0, m * sizeof(float));
    nspikes += rare_pass(k, sc, s, in, step, &sv, spike_idx + nspikes, spike_t + nspikes, keep);
    if (epoch_end)
      renormalise_range(sc, s, n_full, m);
  }
  s->settled = k->c[K_SETTLES] != 0.0;
  s->k1_set = keep;
  s->k1_step = step + 1;
  return nspikes;
}
