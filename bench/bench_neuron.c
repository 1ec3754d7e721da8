/* Micro-benchmark of the cond_alpha step kernel (not a test): ns per neuron-step for a
 * cache-resident population (1e4) and a large one (1e6) under random background input that
 * makes some neurons spike, against the time to stream the six state arrays through memory
 * once (read and write each). One core.
 *
 * Usage: bench_neuron [steps_small [steps_large]] */
#include "condlif/neuron.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static uint64_t rng_state = 0x2545F4914F6CDD1Dull;
static inline uint64_t xorshift(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}
static inline double uniform(void) { return (double)(xorshift() >> 11) * 0x1.0p-53; }

/* Background input: every neuron receives Poisson excitatory and inhibitory spike counts per
 * step (as a ring-buffer row would hold them), weights in nS. */
#define MAX_COUNT 16
typedef struct {
  double cdf_ex[MAX_COUNT], cdf_in[MAX_COUNT];
  double w_ex, w_in;
} background;

static void poisson_cdf(double *cdf, double mean) {
  double p = exp(-mean), c = 0;
  for (int k = 0; k < MAX_COUNT; k++) {
    c += p;
    cdf[k] = c;
    p *= mean / (k + 1);
  }
}

static inline int draw(const double *cdf) {
  double u = uniform();
  int k = 0;
  while (k < MAX_COUNT - 1 && u > cdf[k])
    k++;
  return k;
}

static void fill_input(const background *bg, size_t n, double *in_ex, double *in_in) {
  for (size_t i = 0; i < n; i++) {
    in_ex[i] = bg->w_ex * draw(bg->cdf_ex);
    in_in[i] = bg->w_in * draw(bg->cdf_in);
  }
}

typedef struct {
  double ns_mean, ns_min; /* per neuron-step */
  double rate;            /* Hz per neuron */
} result;

/* What drives the population: Poisson background, or (to time the rare pass alone) every
 * neuron ending its refractoriness inside each step, or every neuron spiking in each step. */
typedef enum { DRIVE_BACKGROUND, DRIVE_ALL_PARTIAL, DRIVE_ALL_SPIKE } drive;

static result bench_kernel(size_t n, int steps, int warmup, cl_threshold_mode mode,
                           const background *bg, drive dr) {
  cl_neuron_params p;
  cl_neuron_params_default(&p);
  p.mode = mode;
  if (dr == DRIVE_ALL_SPIKE)
    p.I_e = 2000.0;
  const double dt = 0.1;
  cl_neuron_kernel k;
  cl_neuron_kernel_init(&k, &p, dt);
  double *a = malloc(8 * n * sizeof(double));
  uint32_t *idx = malloc(n * sizeof *idx);
  double *ts = malloc(n * sizeof *ts);
  if (!a || !idx || !ts) {
    fprintf(stderr, "bench_neuron: out of memory\n");
    exit(1);
  }
  cl_neuron_state s = {n, a, a + n, a + 2 * n, a + 3 * n, a + 4 * n, a + 5 * n};
  cl_neuron_input in = {a + 6 * n, a + 7 * n, NULL, NULL, NULL};
  memset(a, 0, 8 * n * sizeof(double));
  for (size_t i = 0; i < n; i++)
    s.V_m[i] = p.E_L + (p.V_th - p.E_L) * uniform();
  cl_neuron_state_clear_refractory(&s);
  double total = 0, best = INFINITY;
  size_t spikes = 0;
  for (int step = 0; step < warmup + steps; step++) {
    fill_input(bg, n, in.in_ex, in.in_in);
    for (size_t i = 0; dr != DRIVE_BACKGROUND && i < n; i++) {
      s.V_m[i] = dr == DRIVE_ALL_SPIKE ? p.V_th - 0.05 : p.V_reset;
      s.t_ref_end[i] = dr == DRIVE_ALL_SPIKE ? -INFINITY : (step + 0.5) * dt;
    }
    double t = now();
    size_t ns = cl_neuron_step(&k, &s, step, &in, idx, ts);
    t = now() - t;
    if (step >= warmup) {
      total += t;
      best = fmin(best, t);
      spikes += ns;
    }
  }
  result r = {1e9 * total / ((double)steps * (double)n), 1e9 * best / (double)n,
              (double)spikes / ((double)n * steps * dt * 1e-3)};
  free(a);
  free(idx);
  free(ts);
  return r;
}

/* Reads and writes each of the six state arrays once per pass, in one loop like the kernel. */
static result bench_stream(size_t n, int passes) {
  double *a = malloc(6 * n * sizeof(double));
  if (!a) {
    fprintf(stderr, "bench_neuron: out of memory\n");
    exit(1);
  }
  for (size_t i = 0; i < 6 * n; i++)
    a[i] = uniform();
  double *restrict v0 = a, *restrict v1 = a + n, *restrict v2 = a + 2 * n, *restrict v3 = a + 3 * n,
                   *restrict v4 = a + 4 * n, *restrict v5 = a + 5 * n;
  double total = 0, best = INFINITY;
  for (int pass = 0; pass < passes + 1; pass++) {
    double c = 1.0 + 1e-9 * pass;
    double t = now();
    for (size_t i = 0; i < n; i++) {
      v0[i] *= c;
      v1[i] *= c;
      v2[i] *= c;
      v3[i] *= c;
      v4[i] *= c;
      v5[i] *= c;
    }
    t = now() - t;
    if (pass > 0) {
      total += t;
      best = fmin(best, t);
    }
  }
  volatile double sink = a[n / 2];
  (void)sink;
  free(a);
  result r = {1e9 * total / ((double)passes * (double)n), 1e9 * best / (double)n, 0};
  return r;
}

int main(int argc, char **argv) {
  int steps_small = argc > 1 ? atoi(argv[1]) : 2000;
  int steps_large = argc > 2 ? atoi(argv[2]) : 50;
  /* Per neuron and step (dt = 0.1 ms): 0.8 excitatory input spikes of 2 nS and 0.2
   * inhibitory ones of 1 nS on average (e.g. 1000 and 250 synapses at 8 Hz): V fluctuates
   * a few mV below threshold and the neurons fire irregularly. */
  background bg = {.w_ex = 2.0, .w_in = 1.0};
  poisson_cdf(bg.cdf_ex, 0.8);
  poisson_cdf(bg.cdf_in, 0.2);

  printf("cond_alpha step kernel, dt = 0.1 ms, one core\n");
  printf("%-34s %10s %12s %12s %10s\n", "case", "neurons", "ns/n-step", "min ns/n-step", "rate Hz");
  const struct {
    size_t n;
    int steps, warmup;
    cl_threshold_mode mode;
    drive dr;
    const char *name;
  } cases[] = {
      {10000, steps_small, 1000, CL_THRESHOLD_PRECISE, DRIVE_BACKGROUND, "step, precise"},
      {10000, steps_small, 1000, CL_THRESHOLD_GRID, DRIVE_BACKGROUND, "step, grid"},
      {1000000, steps_large, 100, CL_THRESHOLD_PRECISE, DRIVE_BACKGROUND, "step, precise"},
      {1000000, steps_large, 100, CL_THRESHOLD_GRID, DRIVE_BACKGROUND, "step, grid"},
      {10000, steps_small / 10, 10, CL_THRESHOLD_PRECISE, DRIVE_ALL_PARTIAL,
       "rare: refractoriness ends in step"},
      {10000, steps_small / 10, 10, CL_THRESHOLD_PRECISE, DRIVE_ALL_SPIKE, "rare: spike, precise"},
      {10000, steps_small / 10, 10, CL_THRESHOLD_GRID, DRIVE_ALL_SPIKE, "rare: spike, grid"}};
  double large_precise = 0;
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    if (cases[c].steps <= 0)
      continue;
    result r =
        bench_kernel(cases[c].n, cases[c].steps, cases[c].warmup, cases[c].mode, &bg, cases[c].dr);
    printf("%-34s %10zu %12.3f %12.3f %10.0f\n", cases[c].name, cases[c].n, r.ns_mean, r.ns_min,
           r.rate);
    if (cases[c].n == 1000000 && cases[c].mode == CL_THRESHOLD_PRECISE)
      large_precise = r.ns_mean;
  }
  result s4 = bench_stream(10000, steps_small);
  printf("%-34s %10d %12.3f %12.3f %10s\n", "stream 6 arrays (read+write)", 10000, s4.ns_mean,
         s4.ns_min, "-");
  result s6 = bench_stream(1000000, steps_large);
  printf("%-34s %10d %12.3f %12.3f %10s\n", "stream 6 arrays (read+write)", 1000000, s6.ns_mean,
         s6.ns_min, "-");
  printf("1e6 precise step / stream: %.2f\n", large_precise / s6.ns_mean);
  return 0;
}
