/* stimulus: current shapes (with left/right limits at discontinuities), Poisson input counts
 * against rate x time, independence of the per-neuron streams, spike generators, and the
 * same input for a neuron whatever the rank count. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "condlif/error.h"
#include "condlif/stimulus.h"

#include "check.h"

static void test_currents(void) {
  cl_stimulus_config s;
  memset(&s, 0, sizeof s);
  s.kind = CL_STIM_SINE;
  s.start = 0;
  s.stop = INFINITY;
  s.offset = 200;
  s.amplitude = 150;
  s.frequency = 5;
  double t = 12.3;
  CHECK_MSG(fabs(cl_stimulus_current(&s, t, 1) - (200 + 150 * sin(2 * M_PI * 0.005 * t))) < 1e-12,
            "sine");
  s.kind = CL_STIM_DC;
  s.amplitude = 42;
  s.start = 10;
  s.stop = 20;
  CHECK_MSG(cl_stimulus_current(&s, 10, 1) == 42 && cl_stimulus_current(&s, 10, -1) == 0,
            "dc start");
  CHECK_MSG(cl_stimulus_current(&s, 20, 1) == 0 && cl_stimulus_current(&s, 20, -1) == 42,
            "dc stop");
  double times[3] = {5, 10, 15}, values[3] = {1, 2, 3};
  s.kind = CL_STIM_PIECEWISE;
  s.n_points = 3;
  s.times = times;
  s.values = values;
  CHECK_MSG(cl_stimulus_current(&s, 4.9, 1) == 0, "before the first piece");
  CHECK_MSG(cl_stimulus_current(&s, 10, 1) == 2 && cl_stimulus_current(&s, 10, -1) == 1,
            "piece boundary");
  CHECK_MSG(cl_stimulus_current(&s, 100, 1) == 3, "last piece holds");
  s.kind = CL_STIM_TIMESERIES;
  s.start = 0;
  s.stop = INFINITY;
  s.series_dt = 1.0;
  CHECK_MSG(cl_stimulus_current(&s, 0.5, 1) == 1 && cl_stimulus_current(&s, 1.0, 1) == 2 &&
                cl_stimulus_current(&s, 1.0, -1) == 1 && cl_stimulus_current(&s, 7, 1) == 3,
            "time series");
}

static cl_config make_config(cl_population_config *pop, cl_stimulus_config *st) {
  cl_config cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.sim.dt = 0.1;
  cfg.sim.t_stop = 1000;
  cfg.sim.seed = 7;
  memset(pop, 0, sizeof *pop);
  snprintf(pop->name, sizeof pop->name, "p");
  pop->model = CL_MODEL_COND_ALPHA;
  pop->size = 200;
  cl_neuron_params_default(&pop->params);
  for (int v = 0; v < CL_NVARS; v++)
    pop->init[v] = (cl_dist){CL_DIST_CONST, 0, 0, -INFINITY, INFINITY};
  cfg.n_populations = 1;
  cfg.populations = pop;
  cfg.n_total = pop->size;
  cfg.n_stimuli = 2;
  cfg.stimuli = st;
  memset(st, 0, 2 * sizeof *st);
  st[0].kind = CL_STIM_POISSON;
  st[0].sel.all = 1;
  st[0].rate = 100.0;
  st[0].weight = 1.0;
  st[0].start = 0;
  st[0].stop = INFINITY;
  static double spikes[3] = {1.0, 2.05, 2.05};
  static uint64_t ids[2] = {3, 150};
  st[1].kind = CL_STIM_SPIKES;
  st[1].receptor = CL_RECEPTOR_IN;
  st[1].sel.n = 2;
  st[1].sel.ids = ids;
  st[1].n_points = 3;
  st[1].times = spikes;
  st[1].weight = 2.5;
  return cfg;
}

/* Pearson correlation of a[i] and b[i + lag] over the n - lag common bins. */
static double correlation(const double *a, const double *b, int n, int lag) {
  double ma = 0, mb = 0, sab = 0, saa = 0, sbb = 0;
  int m = n - lag;
  for (int i = 0; i < m; i++) {
    ma += a[i] / m;
    mb += b[i + lag] / m;
  }
  for (int i = 0; i < m; i++) {
    sab += (a[i] - ma) * (b[i + lag] - mb);
    saa += (a[i] - ma) * (a[i] - ma);
    sbb += (b[i + lag] - mb) * (b[i + lag] - mb);
  }
  return sab / sqrt(saa * sbb);
}

/* Runs the stimuli of cfg as rank r of P for n_steps; returns counts[gid] of Poisson events
 * and, for neurons 5 and 6, the input of every step. */
static void run(const cl_config *cfg, int r, int P, int64_t n_steps, double *counts, double *inhib,
                double *per_step_of_gid5, double *per_step_of_gid6) {
  cl_network net;
  cl_stimuli st;
  if (cl_network_create(&net, cfg, r, P) || cl_stimuli_create(&st, cfg, &net)) {
    fprintf(stderr, "setup failed: %s\n", cl_error_message());
    exit(1);
  }
  /* the input goes into x (e w per event); x is read and cleared after every step */
  double *ex = net.state.x_ex + net.pops[0].in_begin, *in = net.state.x_in + net.pops[0].in_begin;
  for (int64_t n = 0; n < n_steps; n++) {
    cl_stimuli_inject(&st, &net, n);
    /* x is stored scaled, times x_unit (cl_scale): its value is the stored one times these */
    const double fe = cl_scale_out_x(&net.pops[0].kernel.scale[0], n);
    const double fi = cl_scale_out_x(&net.pops[0].kernel.scale[1], n);
    for (uint64_t L = 0; L < net.pops[0].n_local; L++) {
      uint64_t gid = cl_network_input_gid(&net, net.pops[0].in_begin + L);
      double events = (double)llround(ex[L] * fe / M_E); /* the Poisson input has weight 1 */
      counts[gid] += events;
      inhib[gid * 3 + (n == 10 ? 0 : n == 21 ? 1 : 2)] += in[L] * fi;
      if (gid == 5 && per_step_of_gid5)
        per_step_of_gid5[n] = events;
      if (gid == 6 && per_step_of_gid6)
        per_step_of_gid6[n] = events;
      ex[L] = in[L] = 0;
    }
  }
  cl_stimuli_destroy(&st);
  cl_network_destroy(&net);
}

static void test_spike_input(void) {
  cl_population_config pop;
  cl_stimulus_config st[2];
  cl_config cfg = make_config(&pop, st);
  int64_t n_steps = 100000; /* 10 s */
  double *counts = calloc(200, sizeof *counts), *inhib = calloc(600, sizeof *inhib);
  double *trace = calloc((size_t)n_steps, sizeof *trace);
  double *trace6 = calloc((size_t)n_steps, sizeof *trace6);
  run(&cfg, 0, 1, n_steps, counts, inhib, trace, trace6);
  /* Each neuron: Poisson count with mean rate x T = 1000, sd ~ 31.6. */
  double mean = 1000.0, sd = sqrt(mean), sum = 0;
  int outside = 0;
  for (int i = 0; i < 200; i++) {
    outside += fabs(counts[i] - mean) > 4 * sd;
    sum += counts[i];
  }
  CHECK_MSG(outside == 0, "%d neurons with a count beyond 4 sd", outside);
  CHECK_MSG(fabs(sum / 200 - mean) < 4 * sd / sqrt(200), "mean count %g", sum / 200);
  /* Streams are independent: the binned train of neuron 5 is uncorrelated with the train
   * the same neuron gets from another stimulus (another stream, no shared sequence). */
  {
    double *a = calloc(1000, sizeof *a), *b = calloc(1000, sizeof *b);
    double *t2 = calloc((size_t)n_steps, sizeof *t2);
    for (int64_t n = 0; n < n_steps; n++)
      a[n / 100] += trace[n];
    /* A different stimulus index must give a different stream for the same neuron. */
    cl_stimulus_config st2[2];
    memcpy(st2, st, sizeof st2);
    cl_stimulus_config tmp = st2[0];
    st2[0] = st2[1];
    st2[1] = tmp; /* the Poisson input is now stimulus 1 */
    cfg.stimuli = st2;
    double *c3 = calloc(200, sizeof *c3), *i3 = calloc(600, sizeof *i3);
    run(&cfg, 0, 1, n_steps, c3, i3, t2, NULL);
    for (int64_t n = 0; n < n_steps; n++)
      b[n / 100] += t2[n];
    double corr = correlation(a, b, 1000, 0);
    CHECK_MSG(fabs(corr) < 4.0 / sqrt(1000.0), "correlation %g between streams", corr);
    /* Neurons 5 and 6 of the same stimulus: uncorrelated, also at small lags (no shared or
     * shifted sequence). */
    memset(b, 0, 1000 * sizeof *b);
    for (int64_t n = 0; n < n_steps; n++)
      b[n / 100] += trace6[n];
    for (int lag = 0; lag <= 3; lag++) {
      corr = correlation(a, b, 1000, lag);
      CHECK_MSG(fabs(corr) < 4.0 / sqrt(1000.0), "correlation %g of neurons 5 and 6 at lag %d",
                corr, lag);
    }
    cfg.stimuli = st;
    free(a);
    free(b);
    free(t2);
    free(c3);
    free(i3);
  }
  /* Spike generator: neurons 3 and 150 get 2.5 nS at step 10 (t = 1.0) and 2 x 2.5 nS at
   * step 21 (t = 2.05 rounds up to the grid point 2.1); nobody else gets anything. x_in grows
   * by e w per event (to rounding: x is stored scaled, and scaled back here). */
  const double ew = M_E * 2.5;
  for (int i = 0; i < 200; i++) {
    int sel = i == 3 || i == 150;
    CHECK_MSG(fabs(inhib[i * 3] - (sel ? ew : 0.0)) <= 1e-14 * ew &&
                  fabs(inhib[i * 3 + 1] - (sel ? ew + ew : 0.0)) <= 1e-14 * ew &&
                  inhib[i * 3 + 2] == 0.0,
              "spike generator at neuron %d: %g %g %g", i, inhib[i * 3], inhib[i * 3 + 1],
              inhib[i * 3 + 2]);
  }
  /* Rank independence: the same per-neuron input for P = 2, 3, 4. */
  for (int P = 2; P <= 4; P++) {
    double *cP = calloc(200, sizeof *cP), *iP = calloc(600, sizeof *iP);
    for (int r = 0; r < P; r++)
      run(&cfg, r, P, 20000, cP, iP, NULL, NULL);
    double *c1 = calloc(200, sizeof *c1), *i1 = calloc(600, sizeof *i1);
    run(&cfg, 0, 1, 20000, c1, i1, NULL, NULL);
    CHECK_MSG(memcmp(cP, c1, 200 * sizeof *c1) == 0 && memcmp(iP, i1, 600 * sizeof *i1) == 0,
              "P=%d input differs from 1 rank", P);
    free(cP);
    free(iP);
    free(c1);
    free(i1);
  }
  free(counts);
  free(inhib);
  free(trace);
  free(trace6);
}

/* The populations one kernel call updates together (cl_network_kernel_run): consecutive
 * cond_alpha populations of one neuron model, with local neurons and no stimulus current. */
static void test_kernel_runs(void) {
  const char *text =
      "simulation = { dt = \"0.1 ms\"; t_stop = \"10 ms\"; seed = 1; };\n"
      "populations = (\n"
      "  { name = \"a\"; model = \"cond_alpha\"; size = 30; },\n"
      "  { name = \"b\"; model = \"cond_alpha\"; size = 10; },\n"
      "  { name = \"src\"; model = \"poisson_source\"; size = 5; rate = \"10 Hz\"; },\n"
      "  { name = \"c\"; model = \"cond_alpha\"; size = 7; },\n"
      "  { name = \"d\"; model = \"cond_alpha\"; size = 7; V_th = \"-54 mV\"; },\n"
      "  { name = \"e\"; model = \"cond_alpha\"; size = 7; V_th = \"-54 mV\"; },\n"
      "  { name = \"f\"; model = \"cond_alpha\"; size = 7; V_th = \"-54 mV\"; },\n"
      "  { name = \"one\"; model = \"cond_alpha\"; size = 1; V_th = \"-54 mV\"; }\n"
      ");\n"
      "stimuli = ( { type = \"dc\"; target = \"f\"; amplitude = \"0 pA\"; } );\n";
  cl_config cfg;
  CHECK_MSG(cl_config_parse("runs.cfg", text, NULL, 0, 0, &cfg) == CL_OK, "%s", cl_error_message());
  /* a + b (over a's padding: 15 and 5 neurons per rank); the source; c alone (d's threshold
   * differs); d + e; f alone (its current); one, on the second rank only. */
  const size_t want[2][8] = {{2, 1, 0, 1, 2, 1, 1, 0}, {2, 1, 0, 1, 2, 1, 1, 1}};
  for (int r = 0; r < 2; r++) {
    cl_network net;
    cl_stimuli st;
    CHECK_MSG(cl_network_create(&net, &cfg, r, 2) == CL_OK &&
                  cl_stimuli_create(&st, &cfg, &net) == CL_OK,
              "%s", cl_error_message());
    for (size_t p = 0; p < net.n_pops; p++)
      CHECK_MSG(cl_network_kernel_run(&net, p) == want[r][p],
                "rank %d of 2: population %s: run of %zu populations, expected %zu", r,
                cfg.populations[p].name, cl_network_kernel_run(&net, p), want[r][p]);
    cl_stimuli_destroy(&st);
    cl_network_destroy(&net);
  }
  cl_config_destroy(&cfg);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  test_currents();
  test_spike_input();
  test_kernel_runs();
  MPI_Finalize();
  if (failures)
    fprintf(stderr, "test_stimulus: %d check(s) failed\n", failures);
  else
    printf("test_stimulus: all checks passed\n");
  return failures != 0;
}
