/* Micro-benchmark of the cond_alpha step kernel (not a test): ns per neuron-step for a
 * cache-resident population (1e4) and a large one (1e6) under random background input that
 * makes some neurons fire, against the time to stream the six state arrays through memory once
 * (read and write each). One core, dt = 0.1 ms, NEST's default parameters.
 *
 * The inputs come from a ring of CL_BENCH_ROWS rows per receptor, as in the simulator's ring
 * buffers: a row is filled (untimed) several steps before the kernel reads and clears it, so it
 * is not fresh in cache when read. Arrays are 64-byte aligned. Each step is timed on its own;
 * "min" is the fastest step (least disturbed by other processes), "mean" the average.
 *
 * Usage: bench_neuron [steps_small [steps_large]]   (0 skips a size) */
#include "condlif/neuron.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CL_BENCH_ROWS 8

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double *alloc_doubles(size_t count) {
  size_t bytes = (count * sizeof(double) + 63) / 64 * 64;
  double *p = aligned_alloc(64, bytes);
  if (!p) {
    fprintf(stderr, "bench_neuron: out of memory\n");
    exit(1);
  }
  memset(p, 0, bytes);
  return p;
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
 * step (as a ring-buffer row holds them), weights in nS. */
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
  double *a = alloc_doubles(6 * n);
  double *rows = alloc_doubles(2 * CL_BENCH_ROWS * n); /* ex rows, then in rows */
  uint32_t *idx = malloc(n * sizeof *idx);
  double *ts = malloc(n * sizeof *ts);
  if (!idx || !ts) {
    fprintf(stderr, "bench_neuron: out of memory\n");
    exit(1);
  }
  cl_neuron_state s = {n, a, a + n, a + 2 * n, a + 3 * n, a + 4 * n, a + 5 * n};
  for (size_t i = 0; i < n; i++)
    s.V_m[i] = p.E_L + (p.V_th - p.E_L) * uniform();
  cl_neuron_state_clear_refractory(&s);
  for (int r = 0; r < CL_BENCH_ROWS - 1; r++)
    fill_input(bg, n, rows + r * n, rows + (CL_BENCH_ROWS + r) * n);
  double total = 0, best = INFINITY;
  size_t spikes = 0;
  for (int step = 0; step < warmup + steps; step++) {
    int row = step % CL_BENCH_ROWS;
    cl_neuron_input in = {rows + row * n, rows + (CL_BENCH_ROWS + row) * n, NULL, NULL, NULL};
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
    int next = (step + CL_BENCH_ROWS - 1) % CL_BENCH_ROWS; /* the row read last step */
    fill_input(bg, n, rows + next * n, rows + (CL_BENCH_ROWS + next) * n);
  }
  result r = {1e9 * total / ((double)steps * (double)n), 1e9 * best / (double)n,
              (double)spikes / ((double)n * steps * dt * 1e-3)};
  free(a);
  free(rows);
  free(idx);
  free(ts);
  return r;
}

/* One loop reading and writing each of the six state arrays once per pass (nin = 0), or also
 * the kernel's other traffic (nin = 2: t_ref_end only read, two input rows read and written). */
static result bench_stream(size_t n, int passes, int nin) {
  double *a = alloc_doubles(8 * n);
  for (size_t i = 0; i < 8 * n; i++)
    a[i] = uniform();
  double *restrict v0 = a, *restrict v1 = a + n, *restrict v2 = a + 2 * n, *restrict v3 = a + 3 * n,
                   *restrict v4 = a + 4 * n, *restrict v5 = a + 5 * n, *restrict v6 = a + 6 * n,
                   *restrict v7 = a + 7 * n;
  double total = 0, best = INFINITY;
  for (int pass = 0; pass < passes + 1; pass++) {
    double c = 1.0 + 1e-9 * pass;
    double t = now();
    if (nin == 0) {
      for (size_t i = 0; i < n; i++) {
        v0[i] *= c;
        v1[i] *= c;
        v2[i] *= c;
        v3[i] *= c;
        v4[i] *= c;
        v5[i] *= c;
      }
    } else {
      for (size_t i = 0; i < n; i++) {
        double r = v5[i] * c;
        v0[i] = v0[i] * c + r;
        v1[i] *= c;
        v2[i] *= c;
        v3[i] *= c;
        v4[i] *= c;
        v6[i] = v6[i] * c + r;
        v7[i] = v7[i] * c + r;
      }
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
  /* Per neuron and step: 0.8 excitatory input spikes of 2 nS and 0.2 inhibitory ones of 1 nS
   * on average (e.g. 1000 and 250 synapses at 8 Hz): V fluctuates a few mV below threshold
   * and the neurons fire irregularly at about 14 Hz. */
  background bg = {.w_ex = 2.0, .w_in = 1.0};
  poisson_cdf(bg.cdf_ex, 0.8);
  poisson_cdf(bg.cdf_in, 0.2);

  printf("cond_alpha step kernel, dt = 0.1 ms, one core\n");
  printf("%-40s %9s %10s %10s %8s\n", "case", "neurons", "ns/n-step", "min", "rate Hz");
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
       "rare pass: refractoriness ends in step"},
      {10000, steps_small / 10, 10, CL_THRESHOLD_PRECISE, DRIVE_ALL_SPIKE,
       "rare pass: spike, precise"},
      {10000, steps_small / 10, 10, CL_THRESHOLD_GRID, DRIVE_ALL_SPIKE, "rare pass: spike, grid"}};
  double large_precise = NAN;
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    if (cases[c].steps <= 0)
      continue;
    result r =
        bench_kernel(cases[c].n, cases[c].steps, cases[c].warmup, cases[c].mode, &bg, cases[c].dr);
    printf("%-40s %9zu %10.3f %10.3f %8.0f\n", cases[c].name, cases[c].n, r.ns_mean, r.ns_min,
           r.rate);
    if (cases[c].n == 1000000 && cases[c].mode == CL_THRESHOLD_PRECISE)
      large_precise = r.ns_min;
  }
  const struct {
    size_t n;
    int passes, nin;
    const char *name;
  } streams[] = {{10000, steps_small, 0, "stream 6 state arrays (read+write)"},
                 {1000000, steps_large, 0, "stream 6 state arrays (read+write)"},
                 {1000000, steps_large, 2, "stream kernel traffic (8 read, 7 written)"}};
  double large_stream = NAN;
  for (size_t c = 0; c < sizeof streams / sizeof streams[0]; c++) {
    if (streams[c].passes <= 0)
      continue;
    result r = bench_stream(streams[c].n, streams[c].passes, streams[c].nin);
    printf("%-40s %9zu %10.3f %10.3f %8s\n", streams[c].name, streams[c].n, r.ns_mean, r.ns_min,
           "-");
    if (streams[c].n == 1000000 && streams[c].nin == 0)
      large_stream = r.ns_min;
  }
  if (steps_large > 0)
    printf("1e6 precise step / 6-array stream (min): %.2f\n", large_precise / large_stream);
  return 0;
}
