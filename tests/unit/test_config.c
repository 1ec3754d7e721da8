/* config: every section parsed into the struct with the right values and units, defaults,
 * the bad configurations of tests/config/bad (each must fail with a message naming the file,
 * the line and the key), --set overrides, warnings, resolved-text round trips, loading over
 * MPI, time series from CSV and HDF5, and the threshold analysis of projections. */
#include "condlif/config.h"

#include <dirent.h>
#include <fcntl.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "condlif/check.h"
#include "condlif/error.h"

#include "check.h"

#define DIR_CONFIG CL_SOURCE_DIR "/tests/config"

static char *read_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *t = malloc((size_t)n + 1);
  if (t && fread(t, 1, (size_t)n, f) != (size_t)n) {
    free(t);
    t = NULL;
  }
  if (t)
    t[n] = '\0';
  fclose(f);
  return t;
}

static int parse(const char *text, cl_config *cfg) {
  cl_error_clear();
  return cl_config_parse("t.cfg", text, NULL, 0, 0, cfg);
}

static int parse_set(const char *text, const char *const *sets, size_t n, cl_config *cfg) {
  cl_config_override ov[8];
  for (size_t i = 0; i < n; i++)
    ov[i].assignment = sets[i];
  cl_error_clear();
  return cl_config_parse("t.cfg", text, ov, n, 0, cfg);
}

/* Parsing must fail with a user error whose message contains every NULL-terminated part. */
static void expect_error(const char *text, const char *const *sets, size_t nsets,
                         const char *const *parts, int line) {
  cl_config cfg;
  int st = parse_set(text, sets, nsets, &cfg);
  CHECK_MSG(st == CL_ERR_USER, "line %d: status %d, want a user error", line, st);
  for (size_t i = 0; parts[i]; i++)
    CHECK_MSG(strstr(cl_error_message(), parts[i]) != NULL, "line %d: message \"%s\" lacks \"%s\"",
              line, cl_error_message(), parts[i]);
  CHECK(cfg.populations == NULL && cfg.text == NULL && cfg.n_populations == 0);
}
#define EXPECT_ERROR(text, ...)                                                                    \
  expect_error((text), NULL, 0, (const char *const[]){__VA_ARGS__, NULL}, __LINE__)
#define EXPECT_SET_ERROR(text, set, ...)                                                           \
  expect_error((text), (const char *const[]){set}, 1, (const char *const[]){__VA_ARGS__, NULL},    \
               __LINE__)

/* Field by field (memcmp would also compare padding). */
static int same_params(const cl_neuron_params *a, const cl_neuron_params *b) {
  return a->C_m == b->C_m && a->g_L == b->g_L && a->E_L == b->E_L && a->E_ex == b->E_ex &&
         a->E_in == b->E_in && a->V_th == b->V_th && a->V_reset == b->V_reset &&
         a->t_ref == b->t_ref && a->tau_ex == b->tau_ex && a->tau_in == b->tau_in &&
         a->I_e == b->I_e && a->mode == b->mode;
}

static int same_sim(const cl_simulation_config *a, const cl_simulation_config *b) {
  return a->dt == b->dt && a->t_stop == b->t_stop && a->seed == b->seed &&
         a->min_delay == b->min_delay && a->max_delay == b->max_delay &&
         !strcmp(a->output, b->output) && a->spike_flush_interval == b->spike_flush_interval &&
         a->report_flush_interval == b->report_flush_interval && a->mode == b->mode;
}

/* ------------------------------------------------------------------------------------------ */

static const char *base =
    "simulation = { dt = \"0.1 ms\"; t_stop = \"100 ms\"; };\n"
    "populations = (\n"
    "  { name = \"exc\"; size = 10; C_m = \"200 pF\"; },\n"
    "  { name = \"inh\"; size = 5; }\n"
    ");\n"
    "projections = (\n"
    "  { source = \"exc\"; target = \"inh\"; receptor = \"excitatory\"; rule = "
    "\"pairwise_bernoulli\";\n"
    "    p = 0.5; weight = \"1 nS\"; }\n"
    ");\n";

static void test_all_sections(void) {
  char *text = read_file(DIR_CONFIG "/all_sections.cfg");
  CHECK(text != NULL);
  if (!text)
    return;
  cl_config c;
  cl_error_clear();
  int st = cl_config_parse(DIR_CONFIG "/all_sections.cfg", text, NULL, 0, 0, &c);
  CHECK_MSG(st == CL_OK, "%s", cl_error_message());
  free(text);
  if (st != CL_OK)
    return;
  const cl_simulation_config *s = &c.sim;
  CHECK(s->dt == 0.05 && s->t_stop == 500 && s->seed == UINT64_MAX);
  CHECK(s->min_delay == 0.5 && s->max_delay == 4);
  CHECK(strcmp(s->output, "runs/all") == 0);
  CHECK(s->spike_flush_interval == 1000 && s->report_flush_interval == 20);
  CHECK(s->mode == CL_THRESHOLD_GRID);
  CHECK(strstr(c.text, "simulation = {") != NULL);
  CHECK(strcmp(c.path, DIR_CONFIG "/all_sections.cfg") == 0);

  CHECK(c.n_populations == 5 && c.n_total == 25);
  const cl_population_config *e = &c.populations[0];
  CHECK(strcmp(e->name, "exc") == 0 && e->model == CL_MODEL_COND_ALPHA && e->size == 8);
  CHECK(e->first_gid == 0 && e->record_spikes == 1 && e->line == 17);
  CHECK(!e->spike_sel.all && e->spike_sel.n == 4 && e->spike_sel.ids[2] == 2 &&
        e->spike_sel.ids[3] == 5); /* record_spikes = ("0-2", 5) */
  const cl_neuron_params *p = &e->params;
  CHECK(p->C_m == 250 && p->g_L == 10 && p->E_L == -65 && p->E_ex == 0 && p->E_in == -75);
  CHECK(p->V_th == -50 && p->V_reset == -65 && p->t_ref == 2 && p->tau_ex == 2);
  CHECK(p->tau_in == 8 && p->I_e == 100 && p->mode == CL_THRESHOLD_PRECISE);
  CHECK(e->init[CL_VAR_V_M].kind == CL_DIST_NORMAL && e->init[CL_VAR_V_M].a == -60);
  CHECK(e->init[CL_VAR_V_M].b == 2 && e->init[CL_VAR_V_M].lo == -70 &&
        e->init[CL_VAR_V_M].hi == -51);
  CHECK(e->init[CL_VAR_G_EX].kind == CL_DIST_UNIFORM && e->init[CL_VAR_G_EX].a == 0 &&
        e->init[CL_VAR_G_EX].b == 1);
  CHECK(e->init[CL_VAR_X_EX].kind == CL_DIST_CONST && e->init[CL_VAR_X_EX].a == 0);
  CHECK(e->init[CL_VAR_G_IN].kind == CL_DIST_CONST && e->init[CL_VAR_G_IN].a == 0);
  CHECK(e->init[CL_VAR_X_IN].kind == CL_DIST_CONST && e->init[CL_VAR_X_IN].a == 0.5);

  const cl_population_config *in = &c.populations[1];
  cl_neuron_params d;
  cl_neuron_params_default(&d);
  CHECK(in->size == 4 && in->first_gid == 8 && in->record_spikes == 1 && in->spike_sel.all);
  CHECK(in->params.C_m == d.C_m && in->params.g_L == d.g_L && in->params.E_L == d.E_L);
  CHECK(in->params.tau_ex == d.tau_ex && in->params.V_th == d.V_th);
  CHECK(in->params.mode == CL_THRESHOLD_GRID); /* the simulation's default */
  CHECK(in->init[CL_VAR_V_M].kind == CL_DIST_CONST && in->init[CL_VAR_V_M].a == d.E_L);

  const cl_population_config *no = &c.populations[2];
  CHECK(no->model == CL_MODEL_POISSON_SOURCE && no->size == 6 && no->first_gid == 12);
  CHECK(no->rate == 20 && no->start == 10 && no->stop == 200 && no->record_spikes == 1);

  const cl_population_config *g = &c.populations[3];
  CHECK(g->model == CL_MODEL_SPIKE_SOURCE && g->size == 3 && g->first_gid == 18);
  CHECK(g->record_spikes == 0);
  CHECK(g->spike_ptr[0] == 0 && g->spike_ptr[1] == 2 && g->spike_ptr[2] == 2 &&
        g->spike_ptr[3] == 3);
  CHECK(g->spike_times[0] == 1 && g->spike_times[1] == 5 && g->spike_times[2] == 2);
  const cl_population_config *g2 = &c.populations[4];
  CHECK(g2->size == 4 && g2->first_gid == 21);
  CHECK(g2->spike_ptr[0] == 0 && g2->spike_ptr[1] == 1 && g2->spike_ptr[3] == 1 &&
        g2->spike_ptr[4] == 3);
  CHECK(g2->spike_times[0] == 2 && g2->spike_times[1] == 1 && g2->spike_times[2] == 7.5);

  CHECK(c.n_stimuli == 7);
  const cl_stimulus_config *t = c.stimuli;
  CHECK(strcmp(t[0].name, "bias") == 0 && t[0].kind == CL_STIM_DC && t[0].target == 0);
  CHECK(t[0].sel.all && t[0].amplitude == 50 && t[0].start == 1 && t[0].stop == 10);
  CHECK(strcmp(t[1].name, "sinusoidal->inh") == 0 && t[1].kind == CL_STIM_SINE);
  CHECK(t[1].target == 1 && !t[1].sel.all && t[1].sel.n == 3 && t[1].sel.ids[0] == 0 &&
        t[1].sel.ids[1] == 1 && t[1].sel.ids[2] == 3);
  CHECK(t[1].amplitude == 100 && t[1].offset == 20 && t[1].frequency == 10);
  CHECK(fabs(t[1].phase - M_PI / 2) < 1e-15 && t[1].start == 0 && isinf(t[1].stop));
  CHECK(t[2].kind == CL_STIM_PIECEWISE && t[2].sel.n == 1 && t[2].sel.ids[0] == 2);
  CHECK(t[2].n_points == 2 && t[2].times[0] == 0 && t[2].times[1] == 100);
  CHECK(t[2].values[0] == 10 && t[2].values[1] == -10);
  CHECK(t[3].kind == CL_STIM_TIMESERIES && strcmp(t[3].path, "data/current.csv") == 0);
  CHECK(t[3].n_points == 4 && t[3].values[0] == 500 && t[3].values[1] == 1500 &&
        t[3].values[2] == 2500 && t[3].values[3] == -1000);
  CHECK(t[3].series_dt == 0.5 && t[3].start == 5 && isinf(t[3].stop));
  CHECK(t[4].kind == CL_STIM_TIMESERIES && t[4].path[0] == '\0' && t[4].n_points == 3);
  CHECK(t[4].values[2] == 3 && t[4].series_dt == 1);
  CHECK(t[5].kind == CL_STIM_POISSON && t[5].sel.n == 4 && t[5].sel.ids[0] == 4 &&
        t[5].sel.ids[3] == 7);
  CHECK(t[5].rate == 1000 && t[5].weight == 0.5 && t[5].receptor == CL_RECEPTOR_IN);
  CHECK(t[5].start == 0 && t[5].stop == 400);
  CHECK(t[6].kind == CL_STIM_SPIKES && t[6].n_points == 2 && t[6].times[0] == 1 &&
        t[6].times[1] == 3);
  CHECK(t[6].weight == 2 && t[6].receptor == CL_RECEPTOR_EX && t[6].sel.all);

  CHECK(c.n_projections == 6);
  const cl_projection_config *r = c.projections;
  CHECK(strcmp(r[0].name, "exc->exc") == 0 && r[0].source == 0 && r[0].target == 0);
  CHECK(r[0].rule == CL_RULE_PAIRWISE_BERNOULLI && r[0].p == 0.25);
  CHECK(r[0].allow_autapses == 0 && r[0].allow_multapses == 1);
  double s2 = log(1.25);
  CHECK(r[0].weight.kind == CL_DIST_LOGNORMAL && fabs(r[0].weight.b - sqrt(s2)) < 1e-15 &&
        fabs(r[0].weight.a + 0.5 * s2) < 1e-15);
  CHECK(fabs(cl_config_dist_mean(&r[0].weight) - 1.0) < 1e-12);
  CHECK(r[0].delay.kind == CL_DIST_NORMAL && r[0].delay.a == 2 && r[0].delay.b == 0.5 &&
        r[0].delay.lo == 0.5 && r[0].delay.hi == 3);
  CHECK(strcmp(r[1].name, "e2i") == 0 && r[1].rule == CL_RULE_FIXED_INDEGREE && r[1].k == 3);
  CHECK(r[1].allow_multapses == 0 && r[1].weight.kind == CL_DIST_CONST && r[1].weight.a == 2);
  CHECK(r[1].delay.kind == CL_DIST_CONST && r[1].delay.a == 0.5);
  CHECK(r[2].rule == CL_RULE_FIXED_OUTDEGREE && r[2].k == 20 && r[2].receptor == CL_RECEPTOR_IN);
  CHECK(r[2].weight.kind == CL_DIST_UNIFORM && r[2].weight.lo == 1 && r[2].weight.hi == 3);
  CHECK(r[3].rule == CL_RULE_FIXED_TOTAL_NUMBER && r[3].n == 10);
  CHECK(r[3].weight.kind == CL_DIST_NORMAL && r[3].weight.lo == 0 && isinf(r[3].weight.hi));
  CHECK(r[4].rule == CL_RULE_ALL_TO_ALL && r[4].delay.a == 1); /* default delay 1 ms */
  CHECK(r[5].rule == CL_RULE_ONE_TO_ONE && r[5].delay.kind == CL_DIST_LOGNORMAL);
  CHECK(r[5].delay.a == 0.5 && r[5].delay.b == 0.1 && r[5].delay.lo == 0.5 && r[5].delay.hi == 4);
  /* edges: e2i by record_edges, inh->exc by recording.edges, no other */
  CHECK(r[1].record_edges == 1 && r[2].record_edges == 1);
  CHECK(r[0].record_edges + r[3].record_edges + r[4].record_edges + r[5].record_edges == 0);

  CHECK(c.n_reports == 2);
  CHECK(strcmp(c.reports[0].name, "vm") == 0 && c.reports[0].population == 0);
  CHECK(c.reports[0].vars == ((1u << CL_VAR_V_M) | (1u << CL_VAR_G_IN)));
  CHECK(c.reports[0].sel.n == 4 && c.reports[0].sel.ids[3] == 6 && c.reports[0].interval == 1);
  CHECK(strcmp(c.reports[1].name, "inh") == 0 && c.reports[1].vars == 31);
  CHECK(c.reports[1].sel.all && c.reports[1].interval == 0.05);

  int64_t dmin, dmax;
  cl_config_delay_steps(&c, &dmin, &dmax);
  CHECK(dmin == 10 && dmax == 80);
  CHECK(cl_config_find_population(&c, "gen2") == 4 && cl_config_find_population(&c, "x") == -1);
  cl_config_destroy(&c);
  CHECK(c.populations == NULL && c.text == NULL);
}

static void test_defaults(void) {
  cl_config c;
  int st = parse("simulation = { t_stop = 50.0; };\n"
                 "populations = ( { name = \"a\"; size = 3; } );\n"
                 "projections = ( { source = \"a\"; target = \"a\"; receptor = \"inhibitory\";\n"
                 "  rule = \"all_to_all\"; weight = 1.0; } );\n",
                 &c);
  CHECK_MSG(st == CL_OK, "%s", cl_error_message());
  if (st != CL_OK)
    return;
  cl_neuron_params d;
  cl_neuron_params_default(&d);
  /* NEST's iaf_cond_alpha */
  CHECK(d.C_m == 250 && d.g_L == 16.6667 && d.E_L == -70 && d.E_ex == 0 && d.E_in == -85);
  CHECK(d.V_th == -55 && d.V_reset == -60 && d.t_ref == 2 && d.tau_ex == 0.2 && d.tau_in == 2 &&
        d.I_e == 0);
  CHECK(c.sim.dt == 0.1 && c.sim.t_stop == 50 && c.sim.seed == 12345);
  CHECK(c.sim.min_delay == 0 && c.sim.max_delay == 0);
  CHECK(strcmp(c.sim.output, "condlif_run") == 0);
  CHECK(c.sim.spike_flush_interval == 1000 && c.sim.report_flush_interval == 1000);
  CHECK(c.sim.mode == CL_THRESHOLD_PRECISE);
  const cl_population_config *a = &c.populations[0];
  CHECK(a->model == CL_MODEL_COND_ALPHA && a->record_spikes == 0);
  CHECK(same_params(&a->params, &d));
  CHECK(a->init[CL_VAR_V_M].kind == CL_DIST_CONST && a->init[CL_VAR_V_M].a == -70);
  const cl_projection_config *p = &c.projections[0];
  CHECK(p->allow_autapses == 1 && p->allow_multapses == 1 && p->record_edges == 0);
  CHECK(p->delay.kind == CL_DIST_CONST && p->delay.a == 1 && p->delay.lo == 1);
  CHECK(p->weight.lo == 1 && p->weight.hi == 1);
  CHECK(c.n_stimuli == 0 && c.n_reports == 0);
  int64_t dmin, dmax;
  cl_config_delay_steps(&c, &dmin, &dmax);
  CHECK(dmin == 10 && dmax == 10);
  cl_config_destroy(&c);

  /* no projections: slices of 1 ms */
  st = parse("simulation = { t_stop = 50.0; dt = 0.25; };\n"
             "populations = ( { name = \"a\"; size = 3; } );\n",
             &c);
  CHECK(st == CL_OK);
  cl_config_delay_steps(&c, &dmin, &dmax);
  CHECK(dmin == 4 && dmax == 4);
  cl_config_destroy(&c);

  CHECK(cl_config_delay_to_steps(1.0, 0.1) == 10);
  CHECK(cl_config_delay_to_steps(0.3, 0.1) == 3);
  CHECK(cl_config_delay_to_steps(0.01, 0.1) == 1);
  CHECK(cl_config_delay_to_steps(0.25, 0.1) == 3); /* halves round up */
  CHECK(cl_config_delay_to_steps(0.24, 0.1) == 2);
  CHECK(cl_var_names[CL_VAR_X_IN] && strcmp(cl_var_names[CL_VAR_X_IN], "x_in") == 0);
  CHECK(strcmp(cl_var_units[CL_VAR_V_M], "mV") == 0 &&
        strcmp(cl_var_units[CL_VAR_G_EX], "nS") == 0);
}

/* Each file in tests/config/bad: the line marked "<- error" (or "--set" when none), the
 * "# expect:" parts and the "# set:" overrides. */
static void test_bad_directory(void) {
  DIR *dir = opendir(DIR_CONFIG "/bad");
  CHECK(dir != NULL);
  if (!dir)
    return;
  int n = 0;
  struct dirent *de;
  while ((de = readdir(dir))) {
    size_t len = strlen(de->d_name);
    if (len < 5 || strcmp(de->d_name + len - 4, ".cfg") != 0)
      continue;
    char path[1024];
    snprintf(path, sizeof path, "%s/bad/%s", DIR_CONFIG, de->d_name);
    char *text = read_file(path);
    CHECK(text != NULL);
    if (!text)
      continue;
    n++;
    char expects[8][256];
    int nexp = 0, mark = 0, line = 0;
    char sets[4][256];
    cl_config_override ov[4];
    size_t nsets = 0;
    for (char *s = text, *e; *s; s = e + (*e != '\0')) {
      e = strchr(s, '\n');
      if (!e)
        e = s + strlen(s);
      line++;
      int ll = (int)(e - s);
      char ln[512];
      snprintf(ln, sizeof ln, "%.*s", ll, s);
      if (strncmp(s, "# expect: ", 10) == 0 && nexp < 8)
        snprintf(expects[nexp++], sizeof expects[0], "%.*s", ll - 10, s + 10);
      else if (strncmp(s, "# set: ", 7) == 0 && nsets < 4) {
        snprintf(sets[nsets], sizeof sets[0], "%.*s", ll - 7, s + 7);
        ov[nsets].assignment = sets[nsets];
        nsets++;
      } else if (strstr(ln, "<- error"))
        mark = line;
    }
    cl_config c;
    cl_error_clear();
    int st = cl_config_parse(path, text, ov, nsets, 0, &c);
    const char *msg = cl_error_message();
    CHECK_MSG(st == CL_ERR_USER, "%s: status %d (want a user error)", de->d_name, st);
    char prefix[1200];
    if (mark)
      snprintf(prefix, sizeof prefix, "%s:%d: ", path, mark);
    else
      snprintf(prefix, sizeof prefix, "--set: ");
    CHECK_MSG(strncmp(msg, prefix, strlen(prefix)) == 0,
              "%s: message \"%s\" does not start with "
              "\"%s\"",
              de->d_name, msg, prefix);
    CHECK_MSG(nexp > 0, "%s: no expect line", de->d_name);
    for (int k = 0; k < nexp; k++)
      CHECK_MSG(strstr(msg, expects[k]) != NULL, "%s: message \"%s\" lacks \"%s\"", de->d_name, msg,
                expects[k]);
    free(text);
  }
  closedir(dir);
  CHECK_MSG(n >= 30, "only %d bad configurations", n);
}

static void test_errors_inline(void) {
  /* missing sections and a top-level unknown key */
  EXPECT_ERROR("populations = ( { name = \"a\"; size = 1; } );\n", "t.cfg: simulation.t_stop",
               "missing");
  EXPECT_ERROR("simulation = { t_stop = 10.0; };\n", "t.cfg: populations: missing");
  EXPECT_ERROR("simulation = { t_stop = 10.0; };\npopulations = ();\n", "t.cfg:2: populations",
               "at least one population");
  /* references and types */
  EXPECT_ERROR("simulation = { t_stop = 10.0; };\npopulations = ( { name = \"a\"; size = 1; } );\n"
               "recording = { reports = ( { population = \"a\"; neurons = \"all\"; \n"
               "  variables = \"V_m\"; interval = \"1 Hz\"; } ); };\n",
               "t.cfg:4: recording.reports.a.interval", "Hz is a unit of frequency");
  EXPECT_ERROR("simulation = { t_stop = 10.0; };\npopulations = ( { name = \"a\"; size = 1; } );\n"
               "recording = { reports = ( { population = \"a\"; }, { population = \"a\"; } ); };\n",
               "t.cfg:3: recording.reports.[1].name", "distinct names");
  EXPECT_ERROR("simulation = { t_stop = 10.0; seed = -1; };\n"
               "populations = ( { name = \"a\"; size = 1; } );\n",
               "t.cfg:1: simulation.seed", "got -1");
  EXPECT_ERROR("simulation = { t_stop = 10.0; };\n"
               "populations = ( { name = \"a\"; size = 2; model = \"iaf_cond_alpha\"; } );\n",
               "t.cfg:2: populations.a.model", "\"cond_alpha\"");
  EXPECT_ERROR("simulation = { t_stop = 10.0; };\n"
               "populations = ( { name = \"a\"; size = 2;\n"
               "  init = { V_m = { distribution = \"normal\"; mean = -60.0; sd = 1.0; "
               "min = -50.0; }; }; } );\n",
               "t.cfg:3: populations.a.init.V_m", "less than 0.1%");
  EXPECT_ERROR("simulation = { t_stop = 10.0; };\n"
               "populations = ( { name = \"a\"; size = 2; init = { V = -60.0; }; } );\n",
               "t.cfg:2: populations.a.init.V", "did you mean V_m?");
  /* the group is named with its article: "an all_to_all projection", "a one..." is wrong */
  EXPECT_ERROR("simulation = { t_stop = 10.0; };\npopulations = ( { name = \"a\"; size = 2; } );\n"
               "projections = ( { source = \"a\"; target = \"a\"; rule = \"all_to_all\";\n"
               "  weight = 1.0; delay = 1.0; connectivity = 1; } );\n",
               "t.cfg:4: projections.a->a.connectivity", "unknown key in an all_to_all projection");
  EXPECT_ERROR("simulation = { t_stop = 10.0; };\npopulations = ( { name = \"a\"; size = 2; } );\n"
               "projections = ( { source = \"a\"; target = \"a\"; rule = \"fixed_indegree\";\n"
               "  k = 1; weight = 1.0; delay = 1.0; p = 0.5; } );\n",
               "t.cfg:4: projections.a->a.p", "unknown key in a fixed_indegree projection");
  EXPECT_ERROR("simulation = { t_stop = 10.0; };\npopulations = ( { name = \"a\"; size = 2; } );\n"
               "stimuli = ( { type = \"timeseries\"; target = \"a\"; values = [1.0]; } );\n",
               "t.cfg:3: stimuli.timeseries->a.dt", "missing");
  EXPECT_ERROR("simulation = { t_stop = 10.0; };\npopulations = ( { name = \"a\"; size = 2; } );\n"
               "stimuli = ( { type = \"timeseries\"; target = \"a\"; values = [1.0];\n"
               "  unit = \"mV\"; dt = 1.0; } );\n",
               "t.cfg:4: stimuli.timeseries->a.unit", "a current unit");
  EXPECT_ERROR("simulation = { t_stop = 10.0; };\npopulations = ( { name = \"a\"; size = 2; } );\n"
               "stimuli = ( { type = \"poisson\"; target = \"a\"; rate = 5.0; weight = 1.0;\n"
               "  receptor = \"excitatory\"; times = [1.0]; } );\n",
               "t.cfg:4: stimuli.poisson->a.times",
               "piecewise stimuli and of spike_generator stimuli");
  EXPECT_ERROR("simulation = { t_stop = 10.0; };\npopulations = ( { name = \"s\"; model = "
               "\"spike_source\"; size = 2;\n  trains = ( [1.0], [2.0], [3.0] ); } );\n",
               "t.cfg:3: populations.s.trains", "one train per source (size = 2)");
  EXPECT_ERROR("simulation = { t_stop = 10.0; };\npopulations = ( { name = \"s\"; model = "
               "\"spike_source\"; size = 2; } );\n",
               "t.cfg:2: populations.s.trains", "missing");
  EXPECT_ERROR("simulation = { t_stop = 10.0; };\npopulations = ( { name = \"s\"; model = "
               "\"spike_source\"; size = 2;\n  trains = ( [-1.0], [] ); } );\n",
               "t.cfg:3: populations.s.trains.[0].[0]", "a time >= 0");
  EXPECT_ERROR("simulation = { t_stop = 10.0; };\npopulations = ( { name = \"a\"; size = 2; } );\n"
               "projections = ( { source = \"a\"; target = \"a\"; receptor = \"excitatory\";\n"
               "  rule = \"one_to_one\"; allow_autapses = false; weight = 1.0; } );\n",
               "t.cfg:4: projections.a->a.allow_autapses", "only makes autapses");
  EXPECT_ERROR("simulation = { t_stop = 10.0; };\npopulations = ( { name = \"a\"; size = 1; } );\n"
               "projections = ( { source = \"a\"; target = \"a\"; receptor = \"excitatory\";\n"
               "  rule = \"fixed_indegree\"; k = 1; allow_autapses = false; weight = 1.0; } );\n",
               "t.cfg:4: projections.a->a.k", "no partner");
  /* a range covering the whole population is "all" */
  cl_config c;
  int st = parse(
      "simulation = { t_stop = 10.0; };\npopulations = ( { name = \"a\"; size = 3; } );\n"
      "stimuli = ( { type = \"dc\"; target = \"a\"; amplitude = 1.0; neurons = (\"0-2\", 1); },\n"
      "  { type = \"dc\"; target = \"a\"; amplitude = 1.0; neurons = [2, 0, 1, 1]; },\n"
      "  { type = \"dc\"; target = \"a\"; amplitude = 1.0; neurons = [2, 0, 2]; } );\n",
      &c);
  CHECK_MSG(st == CL_OK, "%s", cl_error_message());
  if (st == CL_OK) {
    CHECK(c.stimuli[0].sel.all && !c.stimuli[0].sel.ids && c.stimuli[1].sel.all);
    CHECK(!c.stimuli[2].sel.all && c.stimuli[2].sel.n == 2 && c.stimuli[2].sel.ids[0] == 0 &&
          c.stimuli[2].sel.ids[1] == 2);
    cl_config_destroy(&c);
  }
  /* spike_source as (id, time) pairs */
  st = parse("simulation = { t_stop = 10.0; };\n"
             "populations = ( { name = \"g\"; model = \"spike_source\"; size = 3;\n"
             "  spikes = ( (2, 4.0), (0, \"1 ms\"), [2.0, 3.0] ); } );\n",
             &c);
  CHECK_MSG(st == CL_OK, "%s", cl_error_message());
  if (st == CL_OK) {
    const cl_population_config *g = &c.populations[0];
    CHECK(g->spike_ptr[0] == 0 && g->spike_ptr[1] == 1 && g->spike_ptr[2] == 1 &&
          g->spike_ptr[3] == 3);
    CHECK(g->spike_times[0] == 1 && g->spike_times[1] == 3 && g->spike_times[2] == 4);
    cl_config_destroy(&c);
  }
  EXPECT_ERROR("simulation = { t_stop = 10.0; };\n"
               "populations = ( { name = \"g\"; model = \"spike_source\"; size = 3;\n"
               "  spikes = ( (2, 4.0), (3, 1.0) ); } );\n",
               "t.cfg:3: populations.g.spikes.[1].[0]", "got 3", "a source id in [0, 2]");
  EXPECT_ERROR("simulation = { t_stop = 10.0; };\n"
               "populations = ( { name = \"g\"; model = \"spike_source\"; size = 3;\n"
               "  spikes = ( (2, 4.0, 1.0) ); } );\n",
               "t.cfg:3: populations.g.spikes.[0]", "a pair (id, t)");
  EXPECT_ERROR("simulation = { t_stop = 10.0; };\n"
               "populations = ( { name = \"g\"; model = \"spike_source\";\n"
               "  spikes = ( (0, 4.0) ); } );\n",
               "t.cfg:2: populations.g.size", "missing");
  EXPECT_ERROR("simulation = { t_stop = 10.0; };\n"
               "populations = ( { name = \"g\"; model = \"spike_source\"; size = 1;\n"
               "  trains = ( [1.0] ); spikes = ( (0, 4.0) ); } );\n",
               "t.cfg:3: populations.g.spikes", "give one of trains, spikes, or indices");
  /* neuron parameter checks name the parameter, also when it is a default */
  EXPECT_ERROR("simulation = { t_stop = 10.0; };\npopulations = ( { name = \"a\"; size = 2;\n"
               "  tau_ex = 0.0; } );\n",
               "t.cfg:3: populations.a.tau_ex", "a time > 0");
  /* the neuron model's own consistency checks (cl_neuron_params_check), located at the key */
  EXPECT_ERROR("simulation = { t_stop = 10.0; };\npopulations = ( { name = \"a\"; size = 2;\n"
               "  V_th = -55.0;\n  V_reset = -50.0; } );\n",
               "t.cfg:4: populations.a.V_reset", "V_reset below V_th");
  EXPECT_ERROR("simulation = { t_stop = 10.0; };\npopulations = ( { name = \"a\"; size = 2;\n"
               "  E_in = 10.0; } );\n",
               "t.cfg:3: populations.a.E_in", "E_in below E_ex");
  EXPECT_ERROR("simulation = { t_stop = 10.0; };\npopulations = ( { name = \"a\"; size = 2;\n"
               "  E_ex = -90.0; } );\n",
               "t.cfg:2: populations.a.E_in", "(the default)");
  /* a projection named twice: its label falls back to the index */
  EXPECT_ERROR("simulation = { t_stop = 10.0; };\npopulations = ( { name = \"a\"; size = 2; } );\n"
               "projections = (\n"
               "  { source = \"a\"; target = \"a\"; receptor = \"excitatory\"; rule = "
               "\"all_to_all\"; weight = 1.0; },\n"
               "  { source = \"a\"; target = \"a\"; receptor = \"excitatory\"; rule = "
               "\"all_to_all\"; weight = -1.0; } );\n",
               "t.cfg:5: projections.[1].weight", "got -1");
}

static void test_overrides(void) {
  cl_config c;
  const char *sets[] = {"simulation.t_stop=2 s",
                        "populations.exc.C_m=0.3 nF",
                        "populations.[1].tau_m=10",
                        ("projections.exc->inh.weight={ distribution = \"uniform\"; low = 1.0; "
                         "high = 2.0; }"),
                        "simulation.output=runs/x y",
                        "populations.exc.init.V_m=-65 mV",
                        "simulation.seed=10000000000"};
  int st = parse_set(base, sets, 7, &c);
  CHECK_MSG(st == CL_OK, "%s", cl_error_message());
  if (st == CL_OK) {
    CHECK(c.sim.t_stop == 2000);
    CHECK(c.populations[0].params.C_m == 300);
    CHECK(c.populations[1].params.g_L == 25); /* 250 pF / 10 ms */
    CHECK(c.projections[0].weight.kind == CL_DIST_UNIFORM && c.projections[0].weight.b == 2);
    CHECK(strcmp(c.sim.output, "runs/x y") == 0);
    CHECK(c.populations[0].init[CL_VAR_V_M].a == -65);
    CHECK(c.sim.seed == 10000000000ULL);
    cl_config_destroy(&c);
  }
  /* g_L replaces a tau_m of the file and the other way round */
  const char *text_tau =
      "simulation = { t_stop = 10.0; };\n"
      "populations = ( { name = \"a\"; size = 2; C_m = 200.0; tau_m = 20.0; } );\n";
  const char *set_gl[] = {"populations.a.g_L=5 nS"};
  st = parse_set(text_tau, set_gl, 1, &c);
  CHECK_MSG(st == CL_OK, "%s", cl_error_message());
  if (st == CL_OK) {
    CHECK(c.populations[0].params.g_L == 5);
    cl_config_destroy(&c);
  }
  /* errors are located at --set and pass the same checks */
  EXPECT_SET_ERROR(base, "populations.exc.C_m=-5 pF", "--set: populations.exc.C_m", "got \"-5 pF\"",
                   "a capacitance > 0");
  EXPECT_SET_ERROR(base, "projections.exc->inh.p=2", "--set: projections.exc->inh.p", "got 2");
  EXPECT_SET_ERROR(base, "populations.exc.C_mm=5", "--set: populations.exc.C_mm",
                   "did you mean C_m?");
  EXPECT_SET_ERROR(base, "populations.foo.C_m=5", "--set populations.foo.C_m=5",
                   "populations.foo: no such element");
  EXPECT_SET_ERROR(base, "populations.[7].C_m=5", "populations.[7]: no such element");
  EXPECT_SET_ERROR(base, "simulation.t_stop", "--set simulation.t_stop", "expected key.path=value");
  EXPECT_SET_ERROR(base, "simulation..t_stop=5", "separated by '.'");
  EXPECT_SET_ERROR(base, "populations.exc.size.x=5", "populations.exc.size: only keys of groups");
  EXPECT_SET_ERROR(base, "populations=5", "--set: populations", "a list");
  EXPECT_SET_ERROR(base, "simulation.dt=0.1 mV", "--set: simulation.dt", "mV is a unit of voltage");
}

/* Runs parse with warn = 1 and returns what it printed on stderr (static buffer). */
static const char *warnings_of(const char *text, int *status) {
  static char buf[8192];
  char path[] = "/tmp/condlif_test_config_XXXXXX";
  int fd = mkstemp(path);
  fflush(stderr);
  int saved = dup(2);
  dup2(fd, 2);
  cl_config c;
  cl_error_clear();
  *status = cl_config_parse("w.cfg", text, NULL, 0, 1, &c);
  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  lseek(fd, 0, SEEK_SET);
  ssize_t n = read(fd, buf, sizeof buf - 1);
  buf[n > 0 ? n : 0] = '\0';
  close(fd);
  unlink(path);
  if (*status == CL_OK)
    cl_config_destroy(&c);
  return buf;
}

static void test_warnings(void) {
  int st;
  const char *w =
      warnings_of("simulation = { t_stop = 10.0; dt = 0.1; };\n"
                  "populations = ( { name = \"a\"; size = 20; E_L = -70.0;\n"
                  "  E_in = -60.0;\n"
                  "  V_reset = -65.0; V_th = -55.0;\n"
                  "  t_ref = 0.05; record_spikes = true; } );\n"
                  "projections = ( { source = \"a\"; target = \"a\"; receptor = \"excitatory\";\n"
                  "  rule = \"fixed_indegree\"; k = 2; weight = 0.01;\n"
                  "  delay = 0.05; } );\n",
                  &st);
  CHECK(st == CL_OK);
  CHECK_MSG(strstr(w, "w.cfg:3: warning: populations.a.E_in: E_in (-60 mV) is above E_L") != NULL,
            "%s", w);
  CHECK_MSG(strstr(w, "w.cfg:5: warning: populations.a.t_ref: t_ref (0.05 ms) is below dt") != NULL,
            "%s", w);
  CHECK_MSG(strstr(w, "w.cfg:8: warning: projections.a->a.delay: 0.05 ms is below dt") != NULL,
            "%s", w);
  CHECK_MSG(strstr(w, "w.cfg:6: warning: projections.a->a: its target cannot reach threshold") !=
                NULL,
            "%s", w);
  /* nothing recorded, a delay that is not a multiple of dt */
  w = warnings_of("simulation = { t_stop = 10.0; };\n"
                  "populations = ( { name = \"a\"; size = 2; } );\n"
                  "projections = ( { source = \"a\"; target = \"a\"; receptor = \"inhibitory\";\n"
                  "  rule = \"all_to_all\"; weight = 1.0; delay = 1.25; } );\n",
                  &st);
  CHECK(st == CL_OK);
  CHECK_MSG(strstr(w, "warning: recording: nothing is recorded") != NULL, "%s", w);
  CHECK_MSG(strstr(w, "t:4: warning") == NULL && strstr(w, "1.25 ms is not a multiple of dt: "
                                                           "rounded to 1.3 ms") != NULL,
            "%s", w);
  /* the shipped configurations are free of warnings */
  const char *files[] = {CL_SOURCE_DIR "/config/seed_two_populations.cfg",
                         CL_SOURCE_DIR "/config/coba_alpha.cfg"};
  for (int i = 0; i < 2; i++) {
    char *t = read_file(files[i]);
    CHECK(t != NULL);
    if (!t)
      continue;
    w = warnings_of(t, &st);
    CHECK_MSG(st == CL_OK && w[0] == '\0', "%s: %s %s", files[i], cl_error_message(), w);
    free(t);
  }
}

/* Equal configurations up to line numbers, the path and the text. */
static int same_dist(const cl_dist *a, const cl_dist *b) {
  return a->kind == b->kind && a->a == b->a && a->b == b->b &&
         (a->lo == b->lo || (isnan(a->lo) && isnan(b->lo))) && a->hi == b->hi;
}
static int same_sel(const cl_selection *a, const cl_selection *b) {
  return a->all == b->all && (a->all || (a->n == b->n && !memcmp(a->ids, b->ids, a->n * 8)));
}
static int same_config(const cl_config *x, const cl_config *y) {
  int ok = same_sim(&x->sim, &y->sim) && x->n_total == y->n_total &&
           x->n_populations == y->n_populations && x->n_stimuli == y->n_stimuli &&
           x->n_projections == y->n_projections && x->n_reports == y->n_reports;
  for (size_t i = 0; ok && i < x->n_populations; i++) {
    const cl_population_config *a = &x->populations[i], *b = &y->populations[i];
    ok = !strcmp(a->name, b->name) && a->model == b->model && a->size == b->size &&
         a->first_gid == b->first_gid && a->record_spikes == b->record_spikes &&
         same_sel(&a->spike_sel, &b->spike_sel) && a->rate == b->rate && a->start == b->start &&
         a->stop == b->stop;
    if (ok && a->model == CL_MODEL_COND_ALPHA) {
      ok = same_params(&a->params, &b->params);
      for (int v = 0; ok && v < CL_NVARS; v++)
        ok = same_dist(&a->init[v], &b->init[v]);
    }
    if (ok && a->model == CL_MODEL_SPIKE_SOURCE)
      ok = !memcmp(a->spike_ptr, b->spike_ptr, (a->size + 1) * 8) &&
           !memcmp(a->spike_times, b->spike_times, a->spike_ptr[a->size] * 8);
  }
  for (size_t i = 0; ok && i < x->n_stimuli; i++) {
    const cl_stimulus_config *a = &x->stimuli[i], *b = &y->stimuli[i];
    ok = !strcmp(a->name, b->name) && a->kind == b->kind && a->target == b->target &&
         same_sel(&a->sel, &b->sel) && a->start == b->start && a->stop == b->stop &&
         a->amplitude == b->amplitude && a->offset == b->offset && a->frequency == b->frequency &&
         a->phase == b->phase && a->n_points == b->n_points && a->series_dt == b->series_dt &&
         !strcmp(a->path, b->path) && a->rate == b->rate && a->weight == b->weight &&
         a->receptor == b->receptor &&
         (!a->times || !memcmp(a->times, b->times, a->n_points * 8)) &&
         (!a->values || !memcmp(a->values, b->values, a->n_points * 8));
  }
  for (size_t i = 0; ok && i < x->n_projections; i++) {
    const cl_projection_config *a = &x->projections[i], *b = &y->projections[i];
    ok = !strcmp(a->name, b->name) && a->source == b->source && a->target == b->target &&
         a->receptor == b->receptor && a->rule == b->rule && a->p == b->p && a->k == b->k &&
         a->n == b->n && a->allow_autapses == b->allow_autapses &&
         a->allow_multapses == b->allow_multapses && same_dist(&a->weight, &b->weight) &&
         same_dist(&a->delay, &b->delay) && a->record_edges == b->record_edges;
  }
  for (size_t i = 0; ok && i < x->n_reports; i++) {
    const cl_report_config *a = &x->reports[i], *b = &y->reports[i];
    ok = !strcmp(a->name, b->name) && a->population == b->population && a->vars == b->vars &&
         same_sel(&a->sel, &b->sel) && a->interval == b->interval;
  }
  return ok;
}

static void round_trip(const char *path) {
  char *text = read_file(path);
  CHECK_MSG(text != NULL, "%s", path);
  if (!text)
    return;
  cl_config a, b;
  cl_error_clear();
  int st = cl_config_parse(path, text, NULL, 0, 0, &a);
  CHECK_MSG(st == CL_OK, "%s: %s", path, cl_error_message());
  free(text);
  if (st != CL_OK)
    return;
  char *res = cl_config_resolved_text(&a);
  CHECK(res != NULL);
  st = cl_config_parse(path, res, NULL, 0, 0, &b);
  CHECK_MSG(st == CL_OK, "%s resolved: %s\n%s", path, cl_error_message(), res);
  if (st == CL_OK) {
    CHECK_MSG(same_config(&a, &b), "%s: the resolved text parses to a different config", path);
    char *res2 = cl_config_resolved_text(&b);
    CHECK_MSG(res2 && strcmp(res, res2) == 0, "%s: resolved text is not a fixed point", path);
    free(res2);
    cl_config_destroy(&b);
  }
  free(res);
  cl_config_destroy(&a);
}

static void test_round_trips(void) {
  round_trip(DIR_CONFIG "/all_sections.cfg");
  round_trip(CL_SOURCE_DIR "/config/seed_two_populations.cfg");
  round_trip(CL_SOURCE_DIR "/config/coba_alpha.cfg");
  round_trip(CL_SOURCE_DIR "/config/bench/coba_alpha_200000.cfg");
  /* a differing value is noticed */
  cl_config a, b;
  CHECK(parse(base, &a) == CL_OK);
  const char *set[] = {"populations.exc.E_L=-69.99999999999999"};
  CHECK(parse_set(base, set, 1, &b) == CL_OK);
  CHECK(!same_config(&a, &b));
  cl_config_destroy(&a);
  cl_config_destroy(&b);
}

static void test_hdf5_timeseries(void) {
  char path[] = "/tmp/condlif_test_series_XXXXXX.h5";
  int fd = mkstemps(path, 3);
  close(fd);
  hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  hsize_t n = 5;
  hid_t sp = H5Screate_simple(1, &n, NULL);
  hid_t g = H5Gcreate2(f, "stim", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  hid_t d = H5Dcreate2(g, "I", H5T_NATIVE_FLOAT, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  float v[5] = {0.5f, 1.0f, -2.0f, 4.0f, 0.25f};
  H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
  hid_t as = H5Screate(H5S_SCALAR);
  hid_t a = H5Acreate2(d, "dt", H5T_NATIVE_DOUBLE, as, H5P_DEFAULT, H5P_DEFAULT);
  double dt = 0.2;
  H5Awrite(a, H5T_NATIVE_DOUBLE, &dt);
  H5Aclose(a);
  H5Sclose(as);
  H5Dclose(d);
  H5Gclose(g);
  H5Sclose(sp);
  H5Fclose(f);
  char text[2048];
  snprintf(text, sizeof text,
           "simulation = { t_stop = 10.0; };\npopulations = ( { name = \"a\"; size = 2; } );\n"
           "stimuli = ( { type = \"timeseries\"; target = \"a\"; file = \"%s\";\n"
           "  dataset = \"/stim/I\"; unit = \"nA\"; } );\n",
           path);
  cl_config c;
  int st = parse(text, &c);
  CHECK_MSG(st == CL_OK, "%s", cl_error_message());
  if (st == CL_OK) {
    const cl_stimulus_config *s = &c.stimuli[0];
    CHECK(s->n_points == 5 && s->values[0] == 500 && s->values[2] == -2000 && s->values[4] == 250);
    CHECK(s->series_dt == 0.2 && strcmp(s->path, path) == 0);
    cl_config_destroy(&c);
  }
  snprintf(text, sizeof text,
           "simulation = { t_stop = 10.0; };\npopulations = ( { name = \"a\"; size = 2; } );\n"
           "stimuli = ( { type = \"timeseries\"; target = \"a\"; file = \"%s\";\n"
           "  dataset = \"/stim/J\"; dt = 1.0; } );\n",
           path);
  EXPECT_ERROR(text, "t.cfg:3: stimuli.timeseries->a.file", "has no dataset \"/stim/J\"");
  snprintf(text, sizeof text,
           "simulation = { t_stop = 10.0; };\npopulations = ( { name = \"a\"; size = 2; } );\n"
           "stimuli = ( { type = \"timeseries\"; target = \"a\"; file = \"%s\"; dt = 1.0; } );\n",
           path);
  EXPECT_ERROR(text, "t.cfg:3: stimuli.timeseries->a.dataset", "missing");
  unlink(path);
}

/* The seed network: the Brian2 forum weight (0.05 nS jump, i.e. a 0.05/e nS peak) cannot
 * make n2 fire; the shipped weight can. */
static void test_seed_threshold(void) {
  char *text = read_file(CL_SOURCE_DIR "/config/seed_two_populations.cfg");
  CHECK(text != NULL);
  if (!text)
    return;
  cl_config c;
  cl_projection_drive d;
  int st = cl_config_parse("seed.cfg", text, NULL, 0, 0, &c);
  CHECK_MSG(st == CL_OK, "%s", cl_error_message());
  if (st == CL_OK) {
    cl_config_projection_drive(&c, 0, &d);
    CHECK(d.weight == 4 && d.indegree == 2.5 && d.synapses == 12.5);
    CHECK(d.psp_peak > 9 && d.psp_peak < 12 && d.psp_peak_full < d.psp_peak);
    CHECK(d.n_threshold > 1 && d.n_threshold <= 2);
    CHECK(d.targets_reaching >= 4 && d.targets_reaching <= 5);
    cl_config_destroy(&c);
  }
  const char *set[] = {"projections.n1->n2.weight=0.018393972058572117 nS"};
  st = parse_set(text, set, 1, &c);
  CHECK(st == CL_OK);
  if (st == CL_OK) {
    cl_config_projection_drive(&c, 0, &d);
    CHECK(d.psp_peak > 0.03 && d.psp_peak < 0.07);
    CHECK(d.n_threshold > 5 && d.targets_reaching < 1);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    int nw = cl_check_print(f, &c, 1);
    fclose(f);
    CHECK(nw == 1);
    CHECK_MSG(strstr(buf, "warning: n2 cannot reach threshold from this projection") != NULL, "%s",
              buf);
    free(buf);
    cl_config_destroy(&c);
  }
  free(text);
}

/* The linearised PSP against an independent quadrature of the same integral, and the
 * threshold count against the closed-form case of a very slow synapse. */
static void test_psp(void) {
  cl_config c;
  int st = parse("simulation = { t_stop = 10.0; };\n"
                 "populations = ( { name = \"a\"; size = 100; C_m = 200.0; g_L = 10.0;\n"
                 "  E_L = -60.0; V_th = -50.0; E_ex = 0.0; E_in = -80.0; tau_ex = 5.0;\n"
                 "  tau_in = 20.0; } );\n"
                 "projections = (\n"
                 "  { source = \"a\"; target = \"a\"; receptor = \"excitatory\"; rule = "
                 "\"fixed_indegree\"; k = 10; weight = 1.0; },\n"
                 "  { source = \"a\"; target = \"a\"; receptor = \"inhibitory\"; rule = "
                 "\"pairwise_bernoulli\"; p = 0.1; weight = 2.0; } );\n",
                 &c);
  CHECK_MSG(st == CL_OK, "%s", cl_error_message());
  if (st != CL_OK)
    return;
  /* V(t) = (1/C) int_0^t g(s) (E - E_L) exp(-(t - s)/tau_m) ds, by the trapezoid rule */
  double tau_m = 20, C = 200, best = 0, tbest = 0;
  for (double t = 0.01; t < 60; t += 0.01) {
    double sum = 0, h = t / 4000;
    for (int k = 0; k <= 4000; k++) {
      double s = k * h, g = 1.0 * (s / 5) * exp(1 - s / 5);
      sum += (k == 0 || k == 4000 ? 0.5 : 1) * g * 60 * exp(-(t - s) / tau_m);
    }
    if (sum * h / C > best) {
      best = sum * h / C;
      tbest = t;
    }
  }
  cl_projection_drive d;
  cl_config_projection_drive(&c, 0, &d);
  CHECK_MSG(fabs(d.psp_peak - best) < 1e-5 * best, "%.10g vs %.10g", d.psp_peak, best);
  CHECK(fabs(d.psp_time - tbest) < 0.02);
  CHECK(d.n_threshold > 4 && d.n_threshold < 5 && d.targets_reaching == 100);
  cl_config_projection_drive(&c, 1, &d);
  CHECK(d.psp_peak < 0 && d.psp_peak_full < 0 && d.psp_peak_full > d.psp_peak);
  CHECK(d.indegree == 10 && d.synapses == 1000);
  cl_config_destroy(&c);
}

/* FNV-1a of a string, to compare texts across ranks. */
static uint64_t hash(const char *s) {
  uint64_t h = 1469598103934665603ULL;
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211ULL;
  return h;
}

/* The same value on every rank. */
static int same_on_all_ranks(uint64_t v) {
  uint64_t lo, hi;
  MPI_Allreduce(&v, &lo, 1, MPI_UINT64_T, MPI_MIN, MPI_COMM_WORLD);
  MPI_Allreduce(&v, &hi, 1, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD);
  return lo == hi;
}

/* cl_config_load is collective: rank 0 reads, every rank parses; every rank returns the same
 * status and message (run at several rank counts by tests/cmake/config.cmake). */
static void test_load(void) {
  cl_config c;
  cl_error_clear();
  int st = cl_config_load(DIR_CONFIG "/no_such.cfg", NULL, 0, 0, &c);
  CHECK(st == CL_ERR_USER);
  CHECK(strstr(cl_error_message(), "no_such.cfg: cannot read the configuration") != NULL);
  CHECK(same_on_all_ranks(hash(cl_error_message())));
  cl_error_clear();
  st = cl_config_load(DIR_CONFIG "/bad/k_above_source_size.cfg", NULL, 0, 0, &c);
  CHECK(st == CL_ERR_USER && strstr(cl_error_message(), "k_above_source_size.cfg:17: "));
  CHECK(same_on_all_ranks(hash(cl_error_message())) && same_on_all_ranks((uint64_t)st));
  cl_error_clear();
  cl_config_override ov = {"populations.exc.size=0"};
  st = cl_config_load(CL_SOURCE_DIR "/config/coba_alpha.cfg", &ov, 1, 0, &c);
  CHECK(st == CL_ERR_USER && strstr(cl_error_message(), "--set: populations.exc.size: got 0"));
  CHECK(same_on_all_ranks(hash(cl_error_message())));
  cl_error_clear();
  st = cl_config_load(DIR_CONFIG "/all_sections.cfg", NULL, 0, 0, &c);
  CHECK_MSG(st == CL_OK, "%s", cl_error_message());
  if (st == CL_OK) {
    char *res = cl_config_resolved_text(&c);
    CHECK(res && same_on_all_ranks(hash(res)));
    free(res);
    cl_config_destroy(&c);
  }
  cl_error_clear();
  st = cl_config_load(DIR_CONFIG, NULL, 0, 0, &c);
  CHECK(st == CL_ERR_USER && strstr(cl_error_message(), "is a directory"));
  cl_error_clear();
  st = cl_config_load(CL_SOURCE_DIR "/config/coba_alpha.cfg", NULL, 0, 0, &c);
  CHECK_MSG(st == CL_OK, "%s", cl_error_message());
  if (st == CL_OK) {
    CHECK(c.n_populations == 3 && c.n_total == 4020 && c.n_projections == 6);
    CHECK(c.populations[0].size == 3200 && c.populations[1].size == 800);
    CHECK(c.projections[2].weight.a == 18.761851499743558 && c.projections[2].k == 16);
    CHECK(c.projections[4].p == 0.01 && c.projections[4].weight.a == 36.787944117144235);
    CHECK(c.populations[2].rate == 100 && c.populations[2].stop == 50);
    cl_check_memory m;
    cl_check_memory_estimate(&c, 2, &m);
    /* one delay (1 ms) per source; constant weights: a table of (4/e nS, ex), (51/e nS, in),
     * (100/e nS, ex), so 4 bytes per synapse */
    CHECK(m.weight_table == 3 && m.synapse_bytes == 4 && m.synapses == 4.0 * 320800 / 2);
    /* 2000 inputs per rank: 6 doubles each, 7 where they keep K1 (fit in the L2 cache) */
    CHECK(m.csr_offsets == 10.0 * 4021 &&
          m.state_doubles == (cl_neuron_state_resident(2000) ? 7 : 6) &&
          m.state == (8.0 * m.state_doubles + (m.state_doubles == 7)) * 2000);
    cl_config_destroy(&c);
  }
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  test_all_sections();
  test_defaults();
  test_bad_directory();
  test_errors_inline();
  test_overrides();
  test_warnings();
  test_round_trips();
  test_hdf5_timeseries();
  test_seed_threshold();
  test_psp();
  test_load();
  MPI_Finalize();
  if (failures)
    fprintf(stderr, "test_config: %d check(s) failed\n", failures);
  return failures != 0;
}
