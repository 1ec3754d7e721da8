/* Run output: one run directory per run, written with parallel HDF5 by collective calls.
 *
 * Layout (DESIGN.md §4):
 *   <dir>/spikes.h5       SONATA spikes: /spikes/<population>/{timestamps, node_ids}, root
 *                         attributes magic, version; run metadata under /condlif.
 *   <dir>/<report>_<var>.h5  one SONATA report per recorded variable:
 *                         /report/<population>/data [n_times x n_recorded] float32 and
 *                         /report/<population>/mapping/{node_ids, index_pointers,
 *                         element_ids, time}.
 *   <dir>/edges.h5        SONATA edges of the projections that record them:
 *                         /edges/<projection>/{source_node_id, target_node_id, edge_type_id,
 *                         edge_group_id, edge_group_index} and /edges/<projection>/0/{syn_weight,
 *                         delay}.
 * Spikes and samples are buffered per rank and appended collectively by cl_output_flush, so
 * memory stays bounded and the files are valid after every flush. */
#ifndef CONDLIF_OUTPUT_H
#define CONDLIF_OUTPUT_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

typedef struct cl_output cl_output;

/* A population whose spikes are recorded. */
typedef struct {
  const char *name;
  uint64_t size;
  uint64_t n_recorded; /* neurons whose spikes are recorded (0: all, size); the group's
                        * attribute recorded_nodes */
} cl_output_spike_pop;

/* One recorded state variable of one population. */
typedef struct {
  const char *file_stem;          /* file is <dir>/<file_stem>.h5 */
  const char *population;         /* population name (the /report/<population> group) */
  const char *variable;           /* "V_m", ... (stored as an attribute of data) */
  const char *units;              /* "mV", "nS" */
  uint64_t n_local;               /* neurons recorded on this rank */
  const uint64_t *local_node_ids; /* their ids within the population, ascending */
  double t_start, dt;             /* ms: first sample time and sampling interval */
  uint64_t n_times;               /* number of samples the run will take */
} cl_output_report;

/* A projection whose synapses are written (an edge population of edges.h5). */
typedef struct {
  const char *name;            /* the edge population: /edges/<name> */
  const char *source, *target; /* node populations (attribute node_population of the ids) */
  const char *receptor, *rule; /* attributes of /edges/<name> */
  int by_source;               /* 1: rows ordered by source node, else by target node */
  int64_t type_id;             /* edge_type_id of every edge (the projection's index) */
  uint64_t n;                  /* synapses over all ranks */
} cl_output_edges;

/* A run continued from a checkpoint writes on in the files of its run directory, which must
 * exist: they are first cut back to what the checkpoint counted (anything beyond came from a
 * later part of an earlier run, which the continuation computes again). */
typedef struct {
  const uint64_t *spikes;    /* [n_spike_pops] spikes each population's datasets keep */
  const double *spike_t_max; /* [n_spike_pops] the latest of them (ms; unused when none) */
  const uint64_t *rows;      /* [n_reports] samples each report keeps */
} cl_output_resume;

typedef struct {
  const char *dir; /* run directory */
  int force;       /* 1: an existing run directory may be reused (its files replaced) */
  size_t n_spike_pops;
  const cl_output_spike_pop *spike_pops;
  size_t n_reports;
  const cl_output_report *reports;
  /* Spike bytes a rank is expected to buffer between appends (the caller's threshold; 0: no
   * hint). The spike buffers (split over the populations in proportion to their sizes) and the
   * flush's scratch space are allocated and written once at open for this much, so that the
   * time loop neither allocates nor faults pages in until a buffer outgrows its share. */
  size_t spike_buffer_bytes;
  size_t n_edges; /* projections whose synapses are written to edges.h5 (none: no file) */
  const cl_output_edges *edges;
  const cl_output_resume *resume; /* NULL: a new run, its files created; else continued (no
                                   * edges: edges.h5 stays as the run began it) */
} cl_output_desc;

/* Checks the run directory (rank 0: refuses an existing one unless force, creates it and its
 * parents) and creates the files. Collective; every rank returns the same status. On failure
 * nothing that existed before is touched. *out is owned by the caller (cl_output_close). */
int cl_output_open(cl_output **out, MPI_Comm comm, const cl_output_desc *desc);

/* What the files hold after the last append (the same on every rank): spikes and the latest
 * spike time (ms) per spike population, samples per report; each array as long as the
 * descriptor's list (a checkpoint's cl_output_resume). Not collective. */
void cl_output_written(const cl_output *out, uint64_t *spikes, double *spike_t_max, uint64_t *rows);
/* Writes rows [start, start + n) of edge population e (index into desc->edges): source and
 * target node ids (within their populations), peak weights (nS) and delays (ms); the row's
 * edge_type_id, edge_group_id (0) and edge_group_index (the row) go with them. Each row must be
 * written exactly once, by one rank. Collective (n may be 0 on some ranks). */
int cl_output_write_edges(cl_output *out, size_t e, uint64_t start, size_t n,
                          const uint64_t *source, const uint64_t *target, const double *weight,
                          const double *delay);

/* Closes edges.h5 once every row is written (the file is then complete on disk). Collective. */
int cl_output_edges_done(cl_output *out);

/* Buffers spikes of spike population pop (index into desc->spike_pops): node ids within the
 * population and times (ms). Not collective; grows the buffer as needed. */
int cl_output_add_spikes(cl_output *out, size_t pop, size_t n, const uint64_t *node_ids,
                         const double *times);

/* Buffers one sample (the values of this rank's recorded neurons, in local_node_ids order)
 * of report r. Not collective. */
int cl_output_add_sample(cl_output *out, size_t r, const float *values);

/* Appends everything buffered to the files and flushes them (the files are valid on disk
 * afterwards). Collective. */
int cl_output_flush(cl_output *out);

/* Appends everything buffered to the files without flushing them (to bound memory between
 * flushes). Collective. */
int cl_output_append(cl_output *out);

/* Bytes currently buffered on this rank (for tests of bounded memory): the spikes and samples
 * added since the last flush; 0 right after a flush. Not collective. */
size_t cl_output_buffered_bytes(const cl_output *out);
/* The part of it that is spikes (16 bytes per spike). */
size_t cl_output_buffered_spike_bytes(const cl_output *out);

/* Bytes this rank holds allocated for buffers that grow with the data (spike and sample buffers
 * and the scratch space of flushes; the fixed per-report plans are not counted). They grow
 * geometrically to the largest amount buffered between two flushes and are kept for reuse, so
 * they stay bounded by a small multiple of that. Not collective. */
size_t cl_output_allocated_bytes(const cl_output *out);

/* Run metadata, written under /condlif in spikes.h5. Local values are reduced over ranks. */
typedef struct {
  const char *config_text;   /* as given */
  const char *resolved_text; /* with defaults and units applied */
  const char *version, *git_commit;
  uint64_t seed;
  double dt, t_stop; /* ms */
  double t_start;    /* ms: where this part began (a continued run's checkpoint, or the state
                      * it started from), else 0 */
  int continued;     /* the part continues a run from its checkpoint (--continue) */
  const char *initial_state; /* the run started from this state (simulation.initial_state)... */
  double initial_t;          /* ...at this time (ms); NULL and 0 otherwise */
  int64_t d_min_steps, d_max_steps;
  uint64_t n_neurons;      /* total gids */
  uint64_t local_synapses; /* summed over ranks */
  size_t n_pops;           /* spike counts per population (all populations) */
  const char *const *pop_names;
  const uint64_t *local_spike_counts; /* summed over ranks */
  size_t n_timers;                    /* phase timers: seconds on this rank */
  const char *const *timer_names;
  const double *timer_seconds; /* min/mean/max over ranks are stored */
  double wall_seconds;         /* whole run on this rank */
  double peak_rss_bytes;       /* this rank; the max over ranks is stored */
  int completed;               /* 1: the run reached t_stop */
} cl_output_meta;

/* Writes the metadata (layout: src/output.c), replacing any written before, and flushes the
 * file: the `completed` marker is written only when meta->completed is 1. Collective. */
int cl_output_write_meta(cl_output *out, const cl_output_meta *meta);

/* Appends what is buffered, closes every file and frees *out (sets it to NULL). Collective. */
int cl_output_close(cl_output **out);

#endif
