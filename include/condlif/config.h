/* The network description: libconfig text -> a validated, plain struct.
 *
 * Format reference: config/README.md. Every value in the struct is in canonical units
 * (ms, mV, pF, nS, pA, Hz). Every rank parses the same bytes (rank 0 reads the file and
 * broadcasts it), so every rank holds the same cl_config and reaches the same errors. */
#ifndef CONDLIF_CONFIG_H
#define CONDLIF_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "condlif/neuron.h"

#define CL_NAME_MAX 64
#define CL_PATH_MAX 1024

typedef enum {
  CL_MODEL_COND_ALPHA = 0,
  CL_MODEL_POISSON_SOURCE = 1,
  CL_MODEL_SPIKE_SOURCE = 2,
} cl_model;

typedef enum { CL_RECEPTOR_EX = 0, CL_RECEPTOR_IN = 1 } cl_receptor;

/* A scalar or a distribution of one quantity (canonical units).
 *   CONST:     a
 *   UNIFORM:   uniform on [a, b)
 *   NORMAL:    mean a, sd b, redrawn until inside [lo, hi] (lo/hi may be -/+INFINITY)
 *   LOGNORMAL: exp(N(a, b)): a, b are mu and sigma of the underlying normal of the value in
 *              canonical units (the file gives the mean and sd of the value itself, or mu
 *              and sigma); lo = 0, hi = INFINITY, except for a delay, whose lo and hi
 *              are simulation.min_delay (if given) and max_delay (draws outside are
 *              clamped to them)
 * For every kind, [lo, hi] bounds the values that can be drawn (CONST: lo = hi = a; UNIFORM:
 * lo = a, hi = b). */
typedef enum { CL_DIST_CONST = 0, CL_DIST_UNIFORM, CL_DIST_NORMAL, CL_DIST_LOGNORMAL } cl_dist_kind;
typedef struct {
  cl_dist_kind kind;
  double a, b;
  double lo, hi;
} cl_dist;

/* A subset of one population's neurons (ids 0-based within the population). */
typedef struct {
  int all;       /* 1: the whole population (ids unused) */
  size_t n;      /* number of ids when !all */
  uint64_t *ids; /* sorted, unique */
} cl_selection;

enum { CL_VAR_V_M = 0, CL_VAR_G_EX, CL_VAR_X_EX, CL_VAR_G_IN, CL_VAR_X_IN, CL_NVARS };
extern const char *const cl_var_names[CL_NVARS]; /* "V_m", "g_ex", "x_ex", "g_in", "x_in" */
extern const char *const cl_var_units[CL_NVARS]; /* "mV", "nS", ... */

typedef struct {
  char name[CL_NAME_MAX];
  cl_model model;
  uint64_t size;
  uint64_t first_gid;     /* gids of this population: first_gid .. first_gid + size - 1 */
  int line;               /* line of its setting in the file, for messages */
  int record_spikes;      /* 1 when its spikes are recorded */
  cl_selection spike_sel; /* the neurons whose spikes are recorded (all unless narrowed) */
  /* cond_alpha */
  cl_neuron_params params;
  cl_dist init[CL_NVARS]; /* initial values of V_m, g_ex, x_ex, g_in, x_in */
  /* poisson_source: each source emits one train shared by all its targets */
  double rate;  /* Hz */
  double start; /* ms */
  double stop;  /* ms (INFINITY: until the end) */
  /* spike_source: times (ms, sorted per source) of source i are
   * spike_times[spike_ptr[i] .. spike_ptr[i+1]) */
  uint64_t *spike_ptr; /* size + 1 entries */
  double *spike_times;
} cl_population_config;

typedef enum {
  CL_STIM_DC = 0,     /* amplitude (pA) between start and stop */
  CL_STIM_SINE,       /* offset + amplitude sin(2 pi frequency (t - start) + phase) */
  CL_STIM_PIECEWISE,  /* step current: values[i] from times[i] until times[i+1] */
  CL_STIM_TIMESERIES, /* values sampled every series_dt from start (TimedArray), held */
  CL_STIM_POISSON,    /* independent Poisson spike input per target neuron */
  CL_STIM_SPIKES,     /* explicit spike times, delivered to every selected neuron */
} cl_stim_kind;

typedef struct {
  char name[CL_NAME_MAX];
  cl_stim_kind kind;
  int line;
  int target;         /* population index */
  cl_selection sel;   /* which of its neurons */
  double start, stop; /* ms (stop INFINITY: until the end) */
  /* DC, SINE */
  double amplitude; /* pA */
  double offset;    /* pA */
  double frequency; /* Hz */
  double phase;     /* rad */
  /* PIECEWISE (times, values), TIMESERIES (values), SPIKES (times) */
  size_t n_points;
  double *times;          /* ms */
  double *values;         /* pA */
  double series_dt;       /* ms */
  char path[CL_PATH_MAX]; /* file of a TIMESERIES, as given (already read into values) */
  /* POISSON, SPIKES */
  double rate;   /* Hz */
  double weight; /* nS (peak conductance) */
  cl_receptor receptor;
  int resumes; /* a run from another run's state (simulation.initial_state): the state holds
                * this spike input, the same one by name and definition, which goes on from
                * there (cl_config_same_network sets it) */
} cl_stimulus_config;

typedef enum {
  CL_RULE_PAIRWISE_BERNOULLI = 0, /* p */
  CL_RULE_FIXED_INDEGREE,         /* k sources per target */
  CL_RULE_FIXED_OUTDEGREE,        /* k targets per source */
  CL_RULE_FIXED_TOTAL_NUMBER,     /* n synapses in all */
  CL_RULE_ONE_TO_ONE,
  CL_RULE_ALL_TO_ALL,
} cl_rule;

typedef struct {
  char name[CL_NAME_MAX]; /* "source->target" unless named */
  int line;
  int source, target; /* population indices */
  cl_receptor receptor;
  cl_rule rule;
  double p;
  uint64_t k;
  uint64_t n;
  int allow_autapses; /* only meaningful when source == target */
  int allow_multapses;
  cl_dist weight;   /* nS, peak conductance; must be positive */
  cl_dist delay;    /* ms; rounded to steps, at least one step */
  int record_edges; /* write its synapses to edges.h5 (record_edges, or recording.edges) */
} cl_projection_config;

typedef struct {
  char name[CL_NAME_MAX]; /* also the report file's stem: <name>.h5 */
  int line;
  int population;
  unsigned vars; /* bit i set: record variable i (CL_VAR_*) */
  cl_selection sel;
  double interval; /* ms, a multiple of dt */
} cl_report_config;

/* When a run writes <output>/checkpoint.h5, from which --continue goes on. */
typedef enum {
  CL_CHECKPOINT_STOP = 0, /* when a signal stops the run (default) */
  CL_CHECKPOINT_END = 1,  /* also when it reaches t_stop (to extend it later) */
  CL_CHECKPOINT_NEVER = 2,
} cl_checkpoint_mode;

typedef struct {
  double dt;     /* ms */
  double t_stop; /* ms */
  uint64_t seed;
  double min_delay, max_delay;     /* ms; 0: derived from the projections */
  char output[CL_PATH_MAX];        /* run directory */
  double spike_flush_interval;     /* ms of simulated time between spike-file flushes */
  double report_flush_interval;    /* ms of simulated time between report flushes */
  cl_threshold_mode mode;          /* default threshold mode of populations */
  cl_checkpoint_mode checkpoint;   /* when checkpoint.h5 is written */
  double checkpoint_interval;      /* ms of wall-clock time between checkpoints while running;
                                    * 0: none */
  char initial_state[CL_PATH_MAX]; /* a run directory (or its checkpoint.h5) whose state this
                                    * run starts from; empty: none */
  double initial_t; /* ms: the time of that state (not a key: read from its checkpoint) */
} cl_simulation_config;

typedef struct cl_config {
  char path[CL_PATH_MAX]; /* file it was read from, for messages */
  char *text;             /* the file's bytes as given (NUL-terminated) */
  cl_simulation_config sim;
  size_t n_populations;
  cl_population_config *populations;
  size_t n_stimuli;
  cl_stimulus_config *stimuli;
  size_t n_projections;
  cl_projection_config *projections;
  size_t n_reports;
  cl_report_config *reports;
  uint64_t n_total; /* total number of gids */
} cl_config;

/* One --set key.path=value override, applied before validation with the same rules. */
typedef struct {
  const char *assignment; /* "simulation.t_stop=200 ms", as given */
} cl_config_override;

/* Parses and validates text (the bytes of the file named path) with the overrides applied.
 * On success fills *out (owned by the caller: cl_config_destroy). On failure returns
 * CL_ERR_USER with a message "path:line: key.path: value given: expected ..." recorded
 * (cl_error_set) and leaves *out empty. Warnings for legal but suspicious settings are
 * printed to stderr when warn is nonzero. Not collective; every rank may call it on the same
 * bytes and gets the same result. */
int cl_config_parse(const char *path, const char *text, const cl_config_override *overrides,
                    size_t n_overrides, int warn, cl_config *out);

/* Rank 0 reads path, broadcasts the bytes, every rank parses them. Collective. On failure
 * every rank returns the same status. */
int cl_config_load(const char *path, const cl_config_override *overrides, size_t n_overrides,
                   int warn, cl_config *out);

/* cl_config_parse on every rank of the same text (a continued run's, from its checkpoint),
 * agreeing on the outcome as cl_config_load does. Collective. */
int cl_config_parse_all(const char *path, const char *text, const cl_config_override *overrides,
                        size_t n_overrides, int warn, cl_config *out);

/* The resolved configuration (all defaults and units applied) as libconfig text; malloc'ed,
 * owned by the caller. */
char *cl_config_resolved_text(const cl_config *cfg);

/* CL_OK when cfg's network is base's (the configuration of the checkpoint at base_path that
 * cfg's simulation.initial_state names): the same dt, seed, populations and projections, all
 * but record_spikes, record_edges and the populations' initial values (the state replaces
 * them). Else a user error naming the first difference. Marks cfg's spike inputs (Poisson and
 * spike-time stimuli) that base has too, by name and definition (`resumes`). */
int cl_config_same_network(cl_config *cfg, const cl_config *base, const char *base_path);

/* Index of the population called name, or -1. */
int cl_config_find_population(const cl_config *cfg, const char *name);

/* The config's names of a connection rule ("fixed_indegree", ...) and a receptor. */
const char *cl_rule_name(cl_rule rule);
const char *cl_receptor_name(cl_receptor receptor);

/* Frees everything cfg owns and zeroes it. */
void cl_config_destroy(cl_config *cfg);

/* --- Additions (config module): helpers shared by the engine, --check and the warnings. --- */

/* Steps of a delay (ms) for time step dt (ms): max(1, round(delay/dt)), halves rounding up.
 * Every delay, drawn or constant, should be rounded this way. Validation ensures that no
 * delay exceeds 65535 steps. Not collective. */
int64_t cl_config_delay_to_steps(double delay, double dt);

/* The smallest and largest delay in steps any synapse can have: simulation.min_delay and
 * max_delay when given, else the bounds of the projections' delay distributions (lo and hi
 * of each cl_dist, rounded as above). Without projections: the given values, else the steps
 * of 1 ms (at least one step). d_min <= d_max. Not collective. */
void cl_config_delay_steps(const cl_config *cfg, int64_t *d_min, int64_t *d_max);

/* Whether every source's synapses share one delay, as the config says: every projection has a
 * constant delay, the same (in steps) for all projections from one population. The synapses
 * then store one delay per source instead of one per synapse (synapses.h). */
int cl_config_single_delay_rows(const cl_config *cfg);

/* Mean of a distribution (of NORMAL and LOGNORMAL truncated to [lo, hi]). */
double cl_config_dist_mean(const cl_dist *d);

/* What one projection can do to its target, from rest (V_rest = E_L + I_e/g_L). */
typedef struct {
  double indegree; /* expected synapses per target neuron */
  double synapses; /* expected synapses in all */
  double weight;   /* nS, mean peak conductance */
  /* mV: peak of the potential change from one input of the mean weight, linearised around
   * rest (driving force E_rev - V_rest); < 0 inhibits */
  double psp_peak;
  double psp_time; /* ms after the spike's arrival at which that peak occurs */
  /* mV: the same with the full conductance dynamics (the synaptic conductance shunts the
   * membrane and the driving force shrinks) */
  double psp_peak_full;
  /* coincident inputs of the mean weight that take the target from rest to V_th (full
   * conductance dynamics; not rounded); INFINITY when no number suffices, 0 when the target
   * is above V_th at rest */
  double n_threshold;
  double targets_reaching; /* expected number of targets whose in-degree is >= n_threshold */
} cl_projection_drive;

/* Fills *out for projection i of a validated cfg. Not collective. */
void cl_config_projection_drive(const cl_config *cfg, size_t i, cl_projection_drive *out);

#endif
