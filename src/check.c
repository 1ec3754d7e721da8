#include "condlif/check.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "condlif/edges.h"
#include "condlif/exchange.h"
#include "condlif/network.h"
#include "condlif/synapses.h"
#include "condlif/units.h"

static const char *const model_names[] = {"cond_alpha", "poisson_source", "spike_source"};
static const char *const stim_names[] = {"dc",         "sinusoidal", "piecewise",
                                         "timeseries", "poisson",    "spike_generator"};
static const char *const rule_names[] = {"pairwise_bernoulli", "fixed_indegree", "fixed_outdegree",
                                         "fixed_total_number", "one_to_one",     "all_to_all"};
static const char *const receptor_names[] = {"excitatory", "inhibitory"};

static const char *num(double v, char *buf, size_t len) {
  if (isinf(v))
    snprintf(buf, len, "%s", v > 0 ? "inf" : "-inf");
  else
    cl_units_format_double(v, buf, len);
  return buf;
}

/* Rounded for reading (6 significant digits). */
static const char *g6(double v, char *buf, size_t len) {
  snprintf(buf, len, "%.6g", v);
  return buf;
}

/* A count: exact when whole, else 6 significant digits. */
static const char *count(double v, char *buf, size_t len) {
  if (v == floor(v) && fabs(v) < 1e15)
    snprintf(buf, len, "%.0f", v);
  else
    snprintf(buf, len, "%.6g", v);
  return buf;
}

static const char *bytes(double b, char *buf, size_t len) {
  const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  int k = 0;
  while (b >= 1024 && k < 5) {
    b /= 1024;
    k++;
  }
  snprintf(buf, len, k ? "%.1f %s" : "%.0f %s", b, u[k]);
  return buf;
}

static const char *dist_text(const cl_dist *d, const char *unit, char *buf, size_t len) {
  char a[32], b[32], lo[32], hi[32], m[32];
  switch (d->kind) {
  case CL_DIST_CONST:
    snprintf(buf, len, "%s %s", num(d->a, a, sizeof a), unit);
    break;
  case CL_DIST_UNIFORM:
    snprintf(buf, len, "uniform [%s, %s) %s", num(d->a, a, sizeof a), num(d->b, b, sizeof b), unit);
    break;
  case CL_DIST_NORMAL:
    snprintf(buf, len, "normal (mean %s, sd %s) in [%s, %s] %s, mean %s", num(d->a, a, sizeof a),
             num(d->b, b, sizeof b), num(d->lo, lo, sizeof lo), num(d->hi, hi, sizeof hi), unit,
             g6(cl_config_dist_mean(d), m, sizeof m));
    break;
  case CL_DIST_LOGNORMAL:
    snprintf(buf, len, "lognormal (mu %s, sigma %s of ln value) in [%s, %s] %s, mean %s",
             g6(d->a, a, sizeof a), g6(d->b, b, sizeof b), num(d->lo, lo, sizeof lo),
             num(d->hi, hi, sizeof hi), unit, g6(cl_config_dist_mean(d), m, sizeof m));
    break;
  }
  return buf;
}

static uint64_t n_steps(const cl_config *cfg) {
  return (uint64_t)llround(cfg->sim.t_stop / cfg->sim.dt);
}

static double selected(const cl_selection *s, uint64_t size) {
  return s->all ? (double)size : (double)s->n;
}

void cl_check_memory_estimate(const cl_config *cfg, int nranks, cl_check_memory *m) {
  memset(m, 0, sizeof *m);
  double P = nranks > 0 ? nranks : 1;
  double syn = 0;
  for (size_t i = 0; i < cfg->n_populations; i++) {
    const cl_population_config *p = &cfg->populations[i];
    if (p->model == CL_MODEL_SPIKE_SOURCE)
      m->config += 8.0 * (double)(p->size + 1) + 8.0 * (double)p->spike_ptr[p->size];
  }
  for (size_t j = 0; j < cfg->n_projections; j++) {
    cl_projection_drive d;
    cl_config_projection_drive(cfg, j, &d);
    syn += d.synapses;
  }
  for (size_t s = 0; s < cfg->n_stimuli; s++)
    m->config += 16.0 * (double)cfg->stimuli[s].n_points;
  for (size_t r = 0; r < cfg->n_reports; r++) {
    const cl_report_config *rep = &cfg->reports[r];
    int nv = 0;
    for (int v = 0; v < CL_NVARS; v++)
      nv += (rep->vars >> v) & 1;
    double per_flush = ceil(cfg->sim.report_flush_interval / rep->interval);
    m->report_buffers +=
        4.0 * nv * per_flush * selected(&rep->sel, cfg->populations[rep->population].size) / P;
  }
  /* edges.h5: a round's rows (40 B, held three times over, and 32 B of columns) and 16 B per
   * unit of the largest recorded projection (src/edges.c) */
  for (size_t j = 0; j < cfg->n_projections; j++) {
    const cl_projection_config *pc = &cfg->projections[j];
    if (!pc->record_edges)
      continue;
    cl_projection_drive d;
    cl_config_projection_drive(cfg, j, &d);
    const double units =
        (double)cfg->populations[pc->rule == CL_RULE_FIXED_OUTDEGREE ? pc->source : pc->target]
            .size;
    const double rows = fmin(d.synapses / P, (double)CL_EDGES_ROUND);
    m->edges = fmax(m->edges, 152.0 * rows + 16.0 * units);
  }
  int64_t dmin, dmax;
  cl_config_delay_steps(cfg, &dmin, &dmax);
  m->delay_per_source = cl_config_single_delay_rows(cfg);
  /* the input index space of the largest rank (the state and the weight table's index bits) */
  uint64_t inputs = 0;
  for (size_t i = 0; i < cfg->n_populations; i++) {
    const cl_population_config *p = &cfg->populations[i];
    if (p->model == CL_MODEL_COND_ALPHA)
      inputs += cl_inputs_of((p->size + (uint64_t)P - 1) / (uint64_t)P);
  }
  cl_weight_table table;
  m->weight_table = cl_synapses_weight_table(cfg, inputs, &table, NULL) == 1 ? (int)table.n : 0;
  /* target word and weight (or the table entry in the target word), then the delay: per
   * source, or 1-2 B per synapse */
  m->synapse_bytes = (m->weight_table ? 4 : 8) + (m->delay_per_source ? 0 : dmax < 256 ? 1 : 2);
  m->synapses = m->synapse_bytes * syn / P;
  m->csr_offsets = (m->delay_per_source ? 10.0 : 8.0) * ((double)cfg->n_total + 1);
  const int resident = cl_neuron_state_resident(inputs);
  m->state_doubles = resident ? 7 : 6;
  m->state = (m->state_doubles * 8.0 + (resident ? 8.0 / CL_TRE_GROUP : 0.0)) * (double)inputs;
  m->total = m->synapses + m->csr_offsets + m->state + m->report_buffers + m->config + m->edges;
}

/* Prints a parameter, marked when it has the default value. */
static void param(FILE *f, const char *key, double v, double def, const char *unit) {
  char a[32];
  fprintf(f, "      %-8s %12s %-3s%s\n", key, num(v, a, sizeof a), unit,
          v == def ? "  (default)" : "");
}

static void print_population(FILE *f, const cl_config *cfg, const cl_population_config *p) {
  char a[32], b[32], c[32], buf[256];
  fprintf(f, "  %s (%s, %llu %s, gids %llu-%llu)%s\n", p->name, model_names[p->model],
          (unsigned long long)p->size, p->model == CL_MODEL_COND_ALPHA ? "neurons" : "sources",
          (unsigned long long)p->first_gid, (unsigned long long)(p->first_gid + p->size - 1),
          p->record_spikes ? ", spikes recorded" : "");
  if (p->model == CL_MODEL_COND_ALPHA) {
    const cl_neuron_params *q = &p->params;
    cl_neuron_params d;
    cl_neuron_params_default(&d);
    param(f, "C_m", q->C_m, d.C_m, "pF");
    param(f, "g_L", q->g_L, d.g_L, "nS");
    param(f, "E_L", q->E_L, d.E_L, "mV");
    param(f, "E_ex", q->E_ex, d.E_ex, "mV");
    param(f, "E_in", q->E_in, d.E_in, "mV");
    param(f, "V_th", q->V_th, d.V_th, "mV");
    param(f, "V_reset", q->V_reset, d.V_reset, "mV");
    param(f, "t_ref", q->t_ref, d.t_ref, "ms");
    param(f, "tau_ex", q->tau_ex, d.tau_ex, "ms");
    param(f, "tau_in", q->tau_in, d.tau_in, "ms");
    param(f, "I_e", q->I_e, d.I_e, "pA");
    double tau_m = q->C_m / q->g_L, v_rest = q->E_L + q->I_e / q->g_L;
    fprintf(f,
            "      derived: tau_m = C_m/g_L = %s ms; rest V_rest = E_L + I_e/g_L = %s mV, %s mV "
            "below V_th%s\n",
            g6(tau_m, a, sizeof a), g6(v_rest, b, sizeof b), g6(q->V_th - v_rest, c, sizeof c),
            v_rest >= q->V_th ? " (fires without input)" : "");
    fprintf(f, "      threshold mode: %s\n",
            q->mode == CL_THRESHOLD_PRECISE ? "precise (spike time interpolated in the step)"
                                            : "grid (spike at the end of the step)");
    fprintf(f, "      initial values:");
    for (int v = 0; v < CL_NVARS; v++)
      fprintf(f, "%s %s = %s", v ? ";" : "", cl_var_names[v],
              dist_text(&p->init[v], cl_var_units[v], buf, sizeof buf));
    fputc('\n', f);
  } else if (p->model == CL_MODEL_POISSON_SOURCE) {
    double t1 = p->stop < cfg->sim.t_stop ? p->stop : cfg->sim.t_stop;
    double active = t1 > p->start ? t1 - p->start : 0;
    fprintf(f, "      rate %s Hz from %s ms to %s ms: about %s spikes per source in the run\n",
            num(p->rate, a, sizeof a), num(p->start, b, sizeof b), num(p->stop, c, sizeof c),
            g6(p->rate * active / 1000.0, buf, sizeof buf));
  } else {
    uint64_t n = p->spike_ptr[p->size];
    double lo = INFINITY, hi = -INFINITY;
    for (uint64_t k = 0; k < n; k++) {
      lo = p->spike_times[k] < lo ? p->spike_times[k] : lo;
      hi = p->spike_times[k] > hi ? p->spike_times[k] : hi;
    }
    if (n)
      fprintf(f, "      %llu spikes between %s ms and %s ms\n", (unsigned long long)n,
              num(lo, a, sizeof a), num(hi, b, sizeof b));
    else
      fprintf(f, "      no spikes\n");
  }
}

static void print_stimulus(FILE *f, const cl_config *cfg, const cl_stimulus_config *s) {
  const cl_population_config *t = &cfg->populations[s->target];
  char a[32], b[32], c[32], d[32], sel[64];
  if (s->sel.all)
    snprintf(sel, sizeof sel, "all %llu neurons", (unsigned long long)t->size);
  else
    snprintf(sel, sizeof sel, "%zu of %llu neurons", s->sel.n, (unsigned long long)t->size);
  fprintf(f, "  %s: %s on %s (%s)\n", s->name, stim_names[s->kind], t->name, sel);
  switch (s->kind) {
  case CL_STIM_DC:
    fprintf(f, "      %s pA from %s ms to %s ms\n", num(s->amplitude, a, sizeof a),
            num(s->start, b, sizeof b), num(s->stop, c, sizeof c));
    break;
  case CL_STIM_SINE: {
    char e[32];
    fprintf(
        f, "      %s pA + %s pA sin(2 pi %s Hz (t - %s ms) + %s rad) until %s%s\n",
        num(s->offset, a, sizeof a), num(s->amplitude, b, sizeof b), num(s->frequency, c, sizeof c),
        num(s->start, d, sizeof d), g6(s->phase, sel, sizeof sel),
        isfinite(s->stop) ? num(s->stop, e, sizeof e) : "the end", isfinite(s->stop) ? " ms" : "");
    break;
  }
  case CL_STIM_PIECEWISE:
    fprintf(f, "      %zu steps between %s ms and %s ms\n", s->n_points,
            num(s->times[0], a, sizeof a), num(s->times[s->n_points - 1], b, sizeof b));
    break;
  case CL_STIM_TIMESERIES: {
    double lo = INFINITY, hi = -INFINITY;
    for (size_t k = 0; k < s->n_points; k++) {
      lo = s->values[k] < lo ? s->values[k] : lo;
      hi = s->values[k] > hi ? s->values[k] : hi;
    }
    fprintf(f, "      %zu samples every %s ms from %s ms%s%s%s, between %s and %s pA\n",
            s->n_points, num(s->series_dt, a, sizeof a), num(s->start, b, sizeof b),
            s->path[0] ? " (read from " : "", s->path, s->path[0] ? ")" : "", g6(lo, c, sizeof c),
            g6(hi, d, sizeof d));
    break;
  }
  case CL_STIM_POISSON:
    fprintf(f, "      %s Hz per neuron, %s receptor, peak %s nS, from %s ms to %s ms\n",
            num(s->rate, a, sizeof a), receptor_names[s->receptor], num(s->weight, b, sizeof b),
            num(s->start, c, sizeof c), num(s->stop, d, sizeof d));
    break;
  case CL_STIM_SPIKES:
    if (s->n_points)
      fprintf(f, "      %zu spikes between %s ms and %s ms", s->n_points,
              num(s->times[0], a, sizeof a), num(s->times[s->n_points - 1], b, sizeof b));
    else
      fprintf(f, "      no spikes");
    fprintf(f, ", %s receptor, peak %s nS, to every selected neuron\n", receptor_names[s->receptor],
            num(s->weight, c, sizeof c));
    break;
  }
}

static int print_projection(FILE *f, const cl_config *cfg, size_t i, double *total) {
  const cl_projection_config *p = &cfg->projections[i];
  const cl_population_config *t = &cfg->populations[p->target];
  cl_projection_drive d;
  cl_config_projection_drive(cfg, i, &d);
  *total += d.synapses;
  char a[32], b[32], c[32], buf[256], rule[96];
  switch (p->rule) {
  case CL_RULE_PAIRWISE_BERNOULLI:
    snprintf(rule, sizeof rule, "pairwise_bernoulli p = %s", num(p->p, a, sizeof a));
    break;
  case CL_RULE_FIXED_INDEGREE:
  case CL_RULE_FIXED_OUTDEGREE:
    snprintf(rule, sizeof rule, "%s k = %llu", rule_names[p->rule], (unsigned long long)p->k);
    break;
  case CL_RULE_FIXED_TOTAL_NUMBER:
    snprintf(rule, sizeof rule, "fixed_total_number n = %llu", (unsigned long long)p->n);
    break;
  default:
    snprintf(rule, sizeof rule, "%s", rule_names[p->rule]);
  }
  int warnings = 0;
  fprintf(f, "  %s: %s -> %s, %s, %s%s%s\n", p->name, cfg->populations[p->source].name, t->name,
          receptor_names[p->receptor], rule,
          p->source == p->target ? (p->allow_autapses ? ", autapses" : ", no autapses") : "",
          (p->rule >= CL_RULE_FIXED_INDEGREE && p->rule <= CL_RULE_FIXED_TOTAL_NUMBER)
              ? (p->allow_multapses ? ", multapses" : ", no multapses")
              : "");
  fprintf(f, "      synapses: %s expected (%s per target neuron)\n", count(d.synapses, a, sizeof a),
          g6(d.indegree, b, sizeof b));
  fprintf(f, "      weight (peak conductance): %s\n", dist_text(&p->weight, "nS", buf, sizeof buf));
  int64_t lo = cl_config_delay_to_steps(p->delay.lo, cfg->sim.dt),
          hi = cl_config_delay_to_steps(p->delay.hi, cfg->sim.dt);
  fprintf(f, "      delay: %s -> %lld", dist_text(&p->delay, "ms", buf, sizeof buf), (long long)lo);
  if (hi != lo)
    fprintf(f, " to %lld", (long long)hi);
  fprintf(f, " steps\n");
  fprintf(f,
          "      PSP at rest (one input of %s nS): %s%s mV linearised, peaking %s ms after "
          "arrival",
          g6(d.weight, a, sizeof a), d.psp_peak > 0 ? "+" : "", g6(d.psp_peak, b, sizeof b),
          g6(d.psp_time, c, sizeof c));
  fprintf(f, "; %s%s mV with the conductance's own shunt\n", d.psp_peak_full > 0 ? "+" : "",
          g6(d.psp_peak_full, a, sizeof a));
  if (d.psp_peak <= 0) {
    fprintf(f, "      inhibitory at rest: moves %s away from threshold\n", t->name);
    return 0;
  }
  const cl_neuron_params *q = &t->params;
  double gap = q->V_th - (q->E_L + q->I_e / q->g_L);
  if (d.n_threshold == 0) {
    fprintf(f, "      threshold: %s is above V_th at rest (fires without input)\n", t->name);
  } else if (!isfinite(d.n_threshold)) {
    fprintf(f, "      threshold: unreachable (reversal potential %s mV not above V_th %s mV)\n",
            num(p->receptor == CL_RECEPTOR_EX ? q->E_ex : q->E_in, a, sizeof a),
            num(q->V_th, b, sizeof b));
  } else {
    double need = ceil(d.n_threshold - 1e-9);
    fprintf(f,
            "      threshold: %.0f coincident input%s take%s %s from rest to V_th (%s mV; "
            "linear estimate %s); expected in-degree %s\n",
            need, need == 1 ? "" : "s", need == 1 ? "s" : "", t->name, g6(gap, a, sizeof a),
            g6(ceil(gap / d.psp_peak), b, sizeof b), g6(d.indegree, c, sizeof c));
  }
  if (d.synapses > 0 && d.targets_reaching < 1) {
    fprintf(f,
            "      warning: %s cannot reach threshold from this projection, even if all its "
            "inputs arrive together%s\n",
            t->name,
            isfinite(d.n_threshold) ? " (no target is expected to have that many inputs)" : "");
    warnings++;
  } else if (d.n_threshold > 0) {
    fprintf(f, "      about %s of %llu targets have enough inputs to reach threshold together\n",
            g6(d.targets_reaching, a, sizeof a), (unsigned long long)t->size);
  }
  return warnings;
}

int cl_check_print(FILE *f, const cl_config *cfg, int nranks) {
  int warnings = 0;
  char a[32], b[32];
  if (nranks < 1)
    nranks = 1;
  const cl_simulation_config *sim = &cfg->sim;
  fprintf(f, "condlif --check %s: valid configuration\n", cfg->path);
  fprintf(f,
          "units: ms, mV, pF, nS, pA, Hz; (default) marks parameters at their default value\n\n");
  fprintf(f, "simulation\n");
  fprintf(f, "  dt %s ms, t_stop %s ms (%llu steps), seed %llu\n", num(sim->dt, a, sizeof a),
          num(sim->t_stop, b, sizeof b), (unsigned long long)n_steps(cfg),
          (unsigned long long)sim->seed);
  fprintf(f,
          "  output directory \"%s\"; spikes flushed every %s ms, reports every %s ms (at most "
          "once per second of wall-clock time)\n",
          sim->output, num(sim->spike_flush_interval, a, sizeof a),
          num(sim->report_flush_interval, b, sizeof b));
  fprintf(f, "  default threshold mode %s\n",
          sim->mode == CL_THRESHOLD_PRECISE ? "precise" : "grid");
  if (sim->initial_state[0] && sim->initial_t > 0) { /* (not set in a continuation's check) */
    fprintf(f,
            "  starts at t = %s ms from the state of %s (same network; its stimuli, spike "
            "counts and output are this run's own)\n",
            g6(sim->initial_t, a, sizeof a), sim->initial_state);
    const char *sep = "  spike inputs going on from that state (same name and definition): ";
    for (size_t i = 0; i < cfg->n_stimuli; i++)
      if (cfg->stimuli[i].resumes) {
        fprintf(f, "%s%s", sep, cfg->stimuli[i].name);
        sep = ", ";
      }
    if (sep[0] == ',')
      fputs("\n", f);
  }
  fputs("\n", f);

  uint64_t neurons = 0;
  for (size_t i = 0; i < cfg->n_populations; i++)
    if (cfg->populations[i].model == CL_MODEL_COND_ALPHA)
      neurons += cfg->populations[i].size;
  fprintf(f, "populations: %zu, %llu gids (%llu neurons, %llu spike sources)\n", cfg->n_populations,
          (unsigned long long)cfg->n_total, (unsigned long long)neurons,
          (unsigned long long)(cfg->n_total - neurons));
  for (size_t i = 0; i < cfg->n_populations; i++)
    print_population(f, cfg, &cfg->populations[i]);

  if (cfg->n_stimuli) {
    fprintf(f, "\nstimuli: %zu\n", cfg->n_stimuli);
    for (size_t i = 0; i < cfg->n_stimuli; i++)
      print_stimulus(f, cfg, &cfg->stimuli[i]);
  }

  double total = 0;
  fprintf(f, "\nprojections: %zu\n", cfg->n_projections);
  for (size_t i = 0; i < cfg->n_projections; i++)
    warnings += print_projection(f, cfg, i, &total);
  fprintf(f, "  total: %s synapses expected\n", count(total, a, sizeof a));

  int64_t dmin, dmax;
  cl_config_delay_steps(cfg, &dmin, &dmax);
  uint64_t steps = n_steps(cfg);
  fprintf(f, "\ndelays and exchange\n");
  fprintf(f, "  D_min %lld steps (%s ms, %s), D_max %lld steps (%s ms, %s)\n", (long long)dmin,
          g6((double)dmin * sim->dt, a, sizeof a),
          sim->min_delay > 0 ? "simulation.min_delay" : "shortest delay", (long long)dmax,
          g6((double)dmax * sim->dt, b, sizeof b),
          sim->max_delay > 0 ? "simulation.max_delay" : "longest delay");
  const uint64_t slice = (uint64_t)cl_exchange_slice(dmin);
  fprintf(
      f,
      "  spikes are exchanged every %s ms (half of D_min, rounded up): %llu exchanges in the run\n",
      g6((double)slice * sim->dt, a, sizeof a), (unsigned long long)((steps + slice - 1) / slice));

  fprintf(f, "\nrecording\n");
  int any = 0;
  for (size_t i = 0; i < cfg->n_populations; i++)
    if (cfg->populations[i].record_spikes) {
      const cl_population_config *p = &cfg->populations[i];
      if (p->spike_sel.all)
        fprintf(f, "  spikes of %s -> %s/spikes.h5\n", p->name, sim->output);
      else
        fprintf(f, "  spikes of %s neurons of %s -> %s/spikes.h5\n",
                g6(selected(&p->spike_sel, p->size), a, sizeof a), p->name, sim->output);
      any = 1;
    }
  for (size_t r = 0; r < cfg->n_reports; r++) {
    const cl_report_config *rep = &cfg->reports[r];
    const cl_population_config *p = &cfg->populations[rep->population];
    fprintf(f, "  report %s:", rep->name);
    for (int v = 0, k = 0; v < CL_NVARS; v++)
      if (rep->vars & (1u << v))
        fprintf(f, "%s %s", k++ ? "," : "", cl_var_names[v]);
    fprintf(f, " of %s neurons of %s every %s ms (%llu samples) ->",
            g6(selected(&rep->sel, p->size), a, sizeof a), p->name, num(rep->interval, b, sizeof b),
            (unsigned long long)(steps / (uint64_t)llround(rep->interval / sim->dt)));
    for (int v = 0; v < CL_NVARS; v++)
      if (rep->vars & (1u << v))
        fprintf(f, " %s/%s_%s.h5", sim->output, rep->name, cl_var_names[v]);
    fputc('\n', f);
    any = 1;
  }
  for (size_t j = 0; j < cfg->n_projections; j++) {
    if (!cfg->projections[j].record_edges)
      continue;
    cl_projection_drive d;
    cl_config_projection_drive(cfg, j, &d);
    fprintf(f, "  synapses of %s (%s%s) -> %s/edges.h5 (52 B each: %s), written before the run\n",
            cfg->projections[j].name, d.synapses == floor(d.synapses) ? "" : "about ",
            count(d.synapses, a, sizeof a), sim->output, bytes(52.0 * d.synapses, b, sizeof b));
    any = 1;
  }
  if (!any) {
    fprintf(f, "  warning: nothing is recorded\n");
    warnings++;
  }
  if (sim->checkpoint != CL_CHECKPOINT_NEVER) {
    /* 48 B per neuron, 16 per Poisson source or Poisson input target, 8 per spike source
     * (doc/output.md); the spikes in transit come on top */
    double ck = 0;
    for (size_t i = 0; i < cfg->n_populations; i++) {
      const cl_population_config *p = &cfg->populations[i];
      ck += (double)p->size * (p->model == CL_MODEL_COND_ALPHA       ? 48.0
                               : p->model == CL_MODEL_POISSON_SOURCE ? 16.0
                                                                     : 8.0);
    }
    for (size_t i = 0; i < cfg->n_stimuli; i++) {
      const cl_stimulus_config *s = &cfg->stimuli[i];
      if (s->kind == CL_STIM_POISSON)
        ck += 16.0 * selected(&s->sel, cfg->populations[s->target].size);
    }
    char every[96] = "";
    if (sim->checkpoint_interval > 0)
      snprintf(every, sizeof every, ", every %s s of wall-clock time while running",
               num(sim->checkpoint_interval * 1e-3, b, sizeof b));
    fprintf(f,
            "  checkpoint -> %s/checkpoint.h5 (%s plus 16 B per spike in transit) %s%s; "
            "condlif --continue goes on from it\n",
            sim->output, bytes(ck, a, sizeof a),
            sim->checkpoint == CL_CHECKPOINT_END || sim->checkpoint_interval > 0
                ? "at a stop by a signal and at the end"
                : "at a stop by a signal",
            every);
  }

  cl_check_memory m;
  cl_check_memory_estimate(cfg, nranks, &m);
  fprintf(f, "\nmemory per rank on %d rank%s (estimate)\n", nranks, nranks > 1 ? "s" : "");
  fprintf(f, "  synapses         %12s  (%d B x %s synapses / %d", bytes(m.synapses, a, sizeof a),
          m.synapse_bytes, count(total, b, sizeof b), nranks);
  if (m.weight_table)
    fprintf(f, "; weights in a table of %d", m.weight_table);
  fprintf(f, ")\n");
  fprintf(f, "  source offsets   %12s  (%s per gid, on every rank)\n",
          bytes(m.csr_offsets, a, sizeof a), m.delay_per_source ? "8 B + a 2 B delay" : "8 B");
  fprintf(f, "  neuron state     %12s  (%d doubles%s per neuron; spikes in transit: 32 B each)\n",
          bytes(m.state, a, sizeof a), m.state_doubles, m.state_doubles == 7 ? " and 1 B" : "");
  if (m.report_buffers > 0)
    fprintf(f, "  report buffers   %12s  (float32 samples between flushes)\n",
            bytes(m.report_buffers, a, sizeof a));
  if (m.edges > 0)
    fprintf(f, "  edges.h5 rounds  %12s  (while the synapses are written, before the run)\n",
            bytes(m.edges, a, sizeof a));
  if (m.config > 0)
    fprintf(f, "  input data       %12s  (spike_source times, time series)\n",
            bytes(m.config, a, sizeof a));
  fprintf(f, "  total            %12s  (plus spike buffers, MPI and HDF5)\n",
          bytes(m.total, a, sizeof a));
  fprintf(f, "\n%d warning%s\n", warnings, warnings == 1 ? "" : "s");
  return warnings;
}
