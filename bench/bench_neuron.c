/* Micro-benchmark of the cond_alpha step kernel (not a test): ns per neuron-step under random
 * input that makes the neurons fire, against the time to stream the six state arrays through
 * memory once (read and write each). One core, dt = 0.1 ms. Cases:
 *  - "step": NEST's default parameters, heavy background (about 14 Hz), 1e4 and 1e6 neurons;
 *  - "COBA": the COBA-alpha benchmark's neurons (bench/README.md: C_m 200 pF, g_L 10 nS,
 *    t_ref 5 ms, tau 5 and 10 ms) with every neuron receiving Poisson input in every step,
 *    about 10 Hz, at 4e3, 4e4 and 1e6 neurons: the simulator's update phase on that network;
 *  - "rare pass": every neuron ending its refractoriness inside each step, or spiking in each
 *    step (the general path alone).
 *
 * The inputs are drawn into a ring of CL_BENCH_ROWS rows per receptor and, before each step
 * (untimed), added to x as the simulator's delivery does (x_r += e w); the kernel then runs
 * with no input rows, as in the simulator. Arrays are 64-byte aligned. Each step is timed on its
 * own; "min" is the fastest step (least disturbed by other processes, but also the step with the
 * fewest spikes), "median" the middle one, "mean" the average. On a shared machine compare
 * min and median over several runs. The 1e6 precise case is also paired step by step with a
 * stream of the six state arrays (see bench_kernel): its median ratio is the robust figure.
 *
 * Usage: bench_neuron [steps_small [steps_large]]   (0 skips a size) */
#include "condlif/error.h"
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

/* 64-byte aligned, zeroed memory for bytes (rounded up to whole lines); exits when out of
 * memory. */
static void *alloc_lines(size_t bytes) {
  bytes = (bytes + 63) / 64 * 64;
  void *p = aligned_alloc(64, bytes ? bytes : 64);
  if (!p) {
    fprintf(stderr, "bench_neuron: out of memory\n");
    exit(1);
  }
  memset(p, 0, bytes);
  return p;
}

static double *alloc_doubles(size_t count) {
  return alloc_lines(count * sizeof(double));
}

static float *alloc_floats(size_t count) {
  return alloc_lines(count * sizeof(float));
}

static uint64_t rng_state = 0x2545F4914F6CDD1Dull;
static inline uint64_t xorshift(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}
static inline double uniform(void) {
  return (double)(xorshift() >> 11) * 0x1.0p-53;
}

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

/* Per neuron and step: mean counts of excitatory and inhibitory input spikes, peak weights. */
static background make_background(double mean_ex, double w_ex, double mean_in, double w_in) {
  background bg = {.w_ex = w_ex, .w_in = w_in};
  poisson_cdf(bg.cdf_ex, mean_ex);
  poisson_cdf(bg.cdf_in, mean_in);
  return bg;
}

static inline int draw(const double *cdf) {
  double u = uniform();
  int k = 0;
  while (k < MAX_COUNT - 1 && u > cdf[k])
    k++;
  return k;
}

static void fill_input(const background *bg, size_t n, float *in_ex, float *in_in) {
  for (size_t i = 0; i < n; i++) {
    in_ex[i] = (float)(bg->w_ex * draw(bg->cdf_ex));
    in_in[i] = (float)(bg->w_in * draw(bg->cdf_in));
  }
}

typedef struct {
  double ns_mean, ns_min, ns_median; /* per neuron-step */
  double rate;                       /* Hz per neuron */
} result;

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* One pass reading and writing each of the six state arrays a[0..6n) once (kernel = 0), or the
 * kernel's real traffic (kernel = 1: a[5n..6n) only read, like t_ref_end). Returns the seconds
 * taken. */
static double stream_pass(double *a, size_t n, int kernel, double c) {
  double *restrict v0 = a, *restrict v1 = a + n, *restrict v2 = a + 2 * n, *restrict v3 = a + 3 * n,
                   *restrict v4 = a + 4 * n, *restrict v5 = a + 5 * n;
  double t = now();
  if (kernel == 0) {
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
    }
  }
  return now() - t;
}

/* What drives the population: Poisson background, or (to time the rare pass alone) every
 * neuron ending its refractoriness inside each step, or every neuron spiking in each step. */
typedef enum { DRIVE_BACKGROUND, DRIVE_ALL_PARTIAL, DRIVE_ALL_SPIKE } drive;

/* Steady activity in a large population without simulating its warm-up: the first
 * min(n, CL_BENCH_WARM_N) neurons are warmed up alone, then copied over the others (which
 * diverge at once, their inputs being independent). */
#define CL_BENCH_WARM_N 10000

/* With paired != NULL, every timed step is followed by one timed pass streaming six arrays of n
 * doubles (stream_pass): both see the same state of the machine (memory bandwidth here varies by
 * tens of percent from minute to minute with the other tenants), and *ratio is the median of
 * the per-step ratios kernel / stream. */
static result bench_kernel(size_t n, int steps, int warmup, const cl_neuron_params *params,
                           const background *bg, drive dr, result *paired, double *ratio) {
  cl_neuron_params p = *params;
  if (dr == DRIVE_ALL_SPIKE)
    p.I_e = 2000.0;
  const double dt = 0.1;
  cl_neuron_kernel k;
  cl_neuron_kernel_init(&k, &p, dt);
  cl_neuron_state s; /* as the simulator has it (and with k1 where it would) */
  if (cl_neuron_state_alloc(&s, n, cl_neuron_state_resident(n)) != CL_OK) {
    fprintf(stderr, "bench_neuron: out of memory\n");
    exit(1);
  }
  double *const vars[6] = {s.V_m, s.g_ex, s.x_ex, s.g_in, s.x_in, s.t_ref_end};
  float *rows = alloc_floats(2 * CL_BENCH_ROWS * n); /* ex rows, then in rows */
  uint32_t *idx = malloc(n * sizeof *idx);
  double *ts = malloc(n * sizeof *ts);
  double *times = malloc((size_t)steps * sizeof *times);
  double *stimes = malloc((size_t)steps * sizeof *stimes);
  double *ratios = malloc((size_t)steps * sizeof *ratios);
  double *sa = paired ? alloc_doubles(6 * n) : NULL;
  if (!idx || !ts || !times || !stimes || !ratios) {
    fprintf(stderr, "bench_neuron: out of memory\n");
    exit(1);
  }
  const size_t nw = n < CL_BENCH_WARM_N ? n : CL_BENCH_WARM_N;
  for (size_t i = 0; i < nw; i++)
    s.V_m[i] = p.E_L + (p.V_th - p.E_L) * uniform();
  double total = 0, best = INFINITY;
  size_t spikes = 0;
  for (int step = 0; step < warmup + steps; step++) {
    /* the population size of this step: nw during the warm-up, then n (from the switch on,
     * 2 CL_BENCH_ROWS untimed steps bring the full population's rows into steady state) */
    const int full_from = warmup - 2 * CL_BENCH_ROWS;
    const size_t m = step < full_from ? nw : n;
    if (step == 0 || step == full_from) {
      if (step > 0) {
        for (int v = 0; v < 6; v++)
          for (size_t i = nw; i < n; i++)
            vars[v][i] = vars[v][i % nw];
        for (size_t g = nw / CL_TRE_GROUP; s.tre_min && g < (n + CL_TRE_GROUP - 1) / CL_TRE_GROUP;
             g++)
          s.tre_min[g] = -INFINITY; /* (t_ref_end written here too) */
      }
      s.k1_set = 0; /* (V and g written here: see cl_neuron_state) */
      for (int r = 0; r < CL_BENCH_ROWS; r++)
        fill_input(bg, m, rows + r * n, rows + (CL_BENCH_ROWS + r) * n);
    }
    int row = step % CL_BENCH_ROWS;
    float *in_ex = rows + row * n, *in_in = rows + (CL_BENCH_ROWS + row) * n;
    /* delivery: x_r += e w, scaled (cl_scale) */
    const double mex = cl_scale_w(&k.scale[0], step), min = cl_scale_w(&k.scale[1], step);
    for (size_t i = 0; i < m; i++) {
      if (in_ex[i] != 0.0f)
        s.x_ex[i] += mex * (double)in_ex[i];
      if (in_in[i] != 0.0f)
        s.x_in[i] += min * (double)in_in[i];
      in_ex[i] = in_in[i] = 0.0f;
    }
    cl_neuron_input in = {.in_ex = NULL};
    for (size_t i = 0; dr != DRIVE_BACKGROUND && i < m; i++) {
      /* (held at V_reset: V NaN, see cl_neuron_state) */
      s.V_m[i] = dr == DRIVE_ALL_SPIKE ? p.V_th - 0.05 : NAN;
      s.t_ref_end[i] = dr == DRIVE_ALL_SPIKE ? INFINITY : (step + 0.5) * dt;
      if (s.tre_min)
        s.tre_min[i / CL_TRE_GROUP] = -INFINITY; /* (t_ref_end written here) */
      s.k1_set = 0;
    }
    s.n = m;
    double t = now();
    size_t ns = cl_neuron_step(&k, &s, step, &in, idx, ts);
    t = now() - t;
    if (step >= warmup) {
      total += t;
      best = fmin(best, t);
      times[step - warmup] = t;
      spikes += ns;
      if (paired) {
        stimes[step - warmup] = stream_pass(sa, n, 0, 1.0 + 1e-9 * step);
        ratios[step - warmup] = t / stimes[step - warmup];
      }
    }
    int next = (step + CL_BENCH_ROWS - 1) % CL_BENCH_ROWS; /* the row read last step */
    fill_input(bg, m, rows + next * n, rows + (CL_BENCH_ROWS + next) * n);
  }
  qsort(times, (size_t)steps, sizeof *times, cmp_double);
  if (paired) {
    qsort(stimes, (size_t)steps, sizeof *stimes, cmp_double);
    qsort(ratios, (size_t)steps, sizeof *ratios, cmp_double);
    double sum = 0;
    for (int j = 0; j < steps; j++)
      sum += stimes[j];
    *paired = (result){1e9 * sum / ((double)steps * (double)n), 1e9 * stimes[0] / (double)n,
                       1e9 * stimes[steps / 2] / (double)n, 0};
    *ratio = ratios[steps / 2];
  }
  result r = {1e9 * total / ((double)steps * (double)n), 1e9 * best / (double)n,
              1e9 * times[steps / 2] / (double)n, (double)spikes / ((double)n * steps * dt * 1e-3)};
  free(s.V_m);
  free(rows);
  free(idx);
  free(ts);
  free(times);
  free(stimes);
  free(ratios);
  free(sa);
  return r;
}

static result bench_stream(size_t n, int passes, int kernel) {
  double *a = alloc_doubles(6 * n);
  for (size_t i = 0; i < 6 * n; i++)
    a[i] = uniform();
  double total = 0, best = INFINITY;
  for (int pass = 0; pass < passes + 1; pass++) {
    double t = stream_pass(a, n, kernel, 1.0 + 1e-9 * pass);
    if (pass > 0) {
      total += t;
      best = fmin(best, t);
    }
  }
  volatile double sink = a[n / 2];
  (void)sink;
  free(a);
  result r = {1e9 * total / ((double)passes * (double)n), 1e9 * best / (double)n, NAN, 0};
  return r;
}

int main(int argc, char **argv) {
  int steps_small = argc > 1 ? atoi(argv[1]) : 2000;
  int steps_large = argc > 2 ? atoi(argv[2]) : 50;
  /* an extra COBA size (e.g. a rank's share of a benchmark network), at steps_large steps */
  long coba_n = argc > 3 ? atol(argv[3]) : 0;
  /* NEST's defaults: per neuron and step 0.8 excitatory input spikes of 2 nS and 0.2 inhibitory
   * ones of 1 nS on average (e.g. 1000 and 250 synapses at 8 Hz): V fluctuates a few mV below
   * threshold and the neurons fire irregularly at about 14 Hz. */
  const background bg = make_background(0.8, 2.0, 0.2, 1.0);
  cl_neuron_params nest, nest_grid;
  cl_neuron_params_default(&nest);
  nest_grid = nest;
  nest_grid.mode = CL_THRESHOLD_GRID;
  /* COBA-alpha's neurons; per step 0.115 excitatory spikes of peak 4/e nS and 0.016 inhibitory
   * ones of peak 51/e nS on average (x jumps by 4 and 51 nS, as in the network): about 10 Hz. */
  const background bg_coba = make_background(0.12, 4.0 / M_E, 0.016, 51.0 / M_E);
  cl_neuron_params coba = nest;
  coba.C_m = 200.0;
  coba.g_L = 10.0;
  coba.E_L = -60.0;
  coba.V_th = -50.0;
  coba.V_reset = -60.0;
  coba.t_ref = 5.0;
  coba.E_ex = 0.0;
  coba.E_in = -80.0;
  coba.tau_ex = 5.0;
  coba.tau_in = 10.0;

  printf("cond_alpha step kernel, dt = 0.1 ms, one core\n");
  printf("%-40s %9s %10s %10s %10s %8s\n", "case", "neurons", "ns/n-step", "min", "median",
         "rate Hz");
  const struct {
    size_t n;
    int steps, warmup;
    const cl_neuron_params *p;
    const background *bg;
    drive dr;
    const char *name;
  } cases[] = {
      {10000, steps_small, 1000, &nest, &bg, DRIVE_BACKGROUND, "step, precise"},
      {10000, steps_small, 1000, &nest_grid, &bg, DRIVE_BACKGROUND, "step, grid"},
      {1000000, steps_large, 1000, &nest, &bg, DRIVE_BACKGROUND, "step, precise"},
      {1000000, steps_large, 1000, &nest_grid, &bg, DRIVE_BACKGROUND, "step, grid"},
      {4000, 2 * steps_small, 2000, &coba, &bg_coba, DRIVE_BACKGROUND, "COBA, precise"},
      {40000, steps_small / 2, 2000, &coba, &bg_coba, DRIVE_BACKGROUND, "COBA, precise"},
      {1000000, steps_large, 2000, &coba, &bg_coba, DRIVE_BACKGROUND, "COBA, precise"},
      {coba_n > 0 ? (size_t)coba_n : 0, steps_large, 2000, &coba, &bg_coba, DRIVE_BACKGROUND,
       "COBA, precise"},
      {10000, steps_small / 10, 20, &nest, &bg, DRIVE_ALL_PARTIAL,
       "rare pass: refractoriness ends in step"},
      {10000, steps_small / 10, 20, &nest, &bg, DRIVE_ALL_SPIKE, "rare pass: spike, precise"},
      {10000, steps_small / 10, 20, &nest_grid, &bg, DRIVE_ALL_SPIKE, "rare pass: spike, grid"}};
  result paired = {0};
  double ratio = NAN;
  int paired_done = 0;
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    if (cases[c].steps <= 0 || cases[c].n == 0)
      continue;
    /* the 1e6 precise step is paired with the stream it is judged against */
    const int pair = !paired_done && cases[c].n == 1000000 && cases[c].p == &nest;
    result r = bench_kernel(cases[c].n, cases[c].steps, cases[c].warmup, cases[c].p, cases[c].bg,
                            cases[c].dr, pair ? &paired : NULL, &ratio);
    printf("%-40s %9zu %10.3f %10.3f %10.3f %8.0f\n", cases[c].name, cases[c].n, r.ns_mean,
           r.ns_min, r.ns_median, r.rate);
    if (pair) {
      printf("%-40s %9zu %10.3f %10.3f %10.3f %8s\n", "  paired: stream 6 state arrays", cases[c].n,
             paired.ns_mean, paired.ns_min, paired.ns_median, "-");
      paired_done = 1;
    }
  }
  const struct {
    size_t n;
    int passes, kernel;
    const char *name;
  } streams[] = {{10000, steps_small, 0, "stream 6 state arrays (read+write)"},
                 {1000000, steps_large, 0, "stream 6 state arrays (read+write)"},
                 {1000000, steps_large, 1, "stream kernel traffic (6 read, 5 written)"}};
  for (size_t c = 0; c < sizeof streams / sizeof streams[0]; c++) {
    if (streams[c].passes <= 0)
      continue;
    result r = bench_stream(streams[c].n, streams[c].passes, streams[c].kernel);
    printf("%-40s %9zu %10.3f %10.3f %10s %8s\n", streams[c].name, streams[c].n, r.ns_mean,
           r.ns_min, "-", "-");
  }
  if (paired_done)
    printf("1e6 precise step / 6-array stream (median of paired ratios): %.2f\n", ratio);
  return 0;
}
