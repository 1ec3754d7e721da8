#include "condlif/sim.h"

#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "condlif/checkpoint.h"
#include "condlif/edges.h"
#include "condlif/error.h"
#include "condlif/exchange.h"
#include "condlif/network.h"
#include "condlif/output.h"
#include "condlif/stimulus.h"
#include "condlif/synapses.h"
#include "condlif/timer.h"
#include "condlif/version.h"

/* One recorded variable of one report, on this rank. */
typedef struct {
  const cl_pop *pop;
  int var;
  int64_t every; /* steps between samples */
  uint64_t n;    /* local recorded neurons */
  uint64_t *j;   /* their indices within pop's local range */
  uint64_t *node_ids;
  float *values;
} recording;

typedef struct {
  const cl_config *cfg;
  const cl_sim_options *opt;
  MPI_Comm comm;
  int rank, size;
  cl_timer timer;
  cl_network net;
  cl_synapses syn;
  cl_stimuli stim;
  cl_exchange ex;
  cl_spike_queue queue; /* received spikes whose synapses have not all arrived */
  cl_output *out;
  size_t n_spike_pops;    /* populations whose spikes are recorded (spikes.h5's groups) */
  size_t n_edges;         /* projections whose synapses go to edges.h5 */
  cl_output_edges *edges; /* [n_projections] their description */
  double edges_wall;      /* seconds spent writing edges.h5 (part of the write phase) */
  double ckpt_wall;       /* seconds spent writing checkpoint.h5 (part of the write phase) */
  int ckpt_written;       /* the end's checkpoint */
  int n_periodic;         /* checkpoints written while running (checkpoint_interval) */
  double last_ckpt;       /* rank 0: wall-clock time of the last one (or of the loop's start) */
  double periodic_t;      /* ms: the simulated time of the last one */
  size_t n_rec;
  recording *rec;
  int *spike_slot;            /* output index of each population's spikes, -1 when not recorded */
  uint8_t **spike_mask;       /* per population: 1 for each local neuron whose spikes are recorded,
                               * NULL when all are (record_spikes naming neurons) */
  size_t *run;                /* per population: cl_network_kernel_run (0 inside a run) */
  cl_neuron_state *run_state; /* per population: its run's neurons, where run > 1 */
  uint32_t *spike_idx;        /* kernel scratch: spikes of one step of one run */
  double *spike_t;
  uint64_t *node_ids;
  int64_t n_steps, slice;
  int64_t n0;     /* the first step of this run: 0, or a continued run's checkpoint step, or the
                   * step of the state it starts from (simulation.initial_state) */
  int64_t first;  /* the step the output files begin at: 0, or the initial state's step */
  int64_t n_done; /* steps simulated: n_steps, or fewer when a signal stopped the run */
  int64_t unsent_start;         /* the slice of the spikes not yet exchanged when the run stopped */
  cl_checkpoint_counts resumed; /* a continued run: what its checkpoint counted */
  double last_flush;            /* rank 0: wall-clock time of the last flush of the files */
} sim;

/* Flags the ranks agree on through the spike exchange (cl_exchange_finish ORs them). */
enum {
  CL_FLAG_FULL = 1u, /* some rank's output buffers are full: append early */
  CL_FLAG_STOP = 2u, /* some rank got a stop signal */
  CL_FLAG_SYNC = 4u, /* rank 0: CL_FLUSH_WALL seconds have passed since the last flush */
  CL_FLAG_CKPT = 8u, /* rank 0: checkpoint_interval has passed since the last checkpoint */
};

/* The stop signals: SIGTERM (a batch system's time limit; mpirun forwards its own), SIGINT,
 * SIGUSR1 (SLURM's --signal=USR1@T; mpirun forwards it). The first one to arrive on any rank
 * stops the run at the next exchange, on every rank after the same step, with its output
 * written up to there (see run_loop). */
static const int stop_signals[] = {SIGTERM, SIGINT, SIGUSR1};
#define CL_NSTOP (sizeof stop_signals / sizeof stop_signals[0])
static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig) {
  if (!stop_signal)
    stop_signal = sig;
}

static void catch_stop_signals(struct sigaction *old) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  stop_signal = 0;
  for (size_t i = 0; i < CL_NSTOP; i++)
    sigaction(stop_signals[i], &sa, &old[i]);
}

static void restore_stop_signals(const struct sigaction *old) {
  for (size_t i = 0; i < CL_NSTOP; i++)
    sigaction(stop_signals[i], &old[i], NULL);
}

static const char *signal_name(int sig) {
  return sig == SIGTERM   ? "SIGTERM"
         : sig == SIGINT  ? "SIGINT"
         : sig == SIGUSR1 ? "SIGUSR1"
                          : "a signal";
}

/* Output buffered on any rank beyond CL_FLUSH_BYTES, or spikes beyond CL_FLUSH_SPIKE_BYTES, is
 * appended early (at the end of the slice; the ranks agree through the spike exchange), so
 * memory stays bounded whatever the flush intervals. An append sorts and writes through
 * temporary copies of about twice the buffered bytes: at 16 MB that made the output the largest
 * transient of a 200 000-neuron run (peak RSS 232 MB against 194 MB after construction). Spikes
 * go in 1 MB appends, whose sort and copies stay in cache: bench_output, 2 M spikes at 1 / 2
 * ranks, 0.056 / 0.080 s in appends of 250 000 spikes (4 MB), 0.046 / 0.059 s in appends of
 * 62 500; COBA-alpha 200 000, write phase 0.079-0.087 -> 0.052 s at 1 rank, 0.085 -> 0.062 s at
 * 2. */
#define CL_FLUSH_BYTES ((size_t)4 << 20)
#define CL_FLUSH_SPIKE_BYTES ((size_t)1 << 20)
/* Files are flushed (synced to disk) every flush interval of simulated time, but not more often
 * than once per CL_FLUSH_WALL seconds of wall-clock time (rank 0's clock; the ranks agree
 * through the exchange): a flush costs some 2 ms here, which at an interval of 10 ms doubled
 * the time of a 4000-neuron network (200 syncs per simulated second). */
#define CL_FLUSH_WALL 1.0
/* Seconds between progress lines when stderr is not a terminal. */
#define CL_PROGRESS_LOG 10.0

static int64_t steps_of(double t, double dt) {
  return (int64_t)llround(t / dt);
}

static double *var_array(const cl_pop *pop, int var) {
  const cl_neuron_state *s = &pop->state;
  double *a[CL_NVARS] = {s->V_m, s->g_ex, s->x_ex, s->g_in, s->x_in};
  return a[var];
}

static int setup_recordings(sim *S) {
  const cl_config *cfg = S->cfg;
  size_t n = 0;
  for (size_t r = 0; r < cfg->n_reports; r++)
    n += (size_t)__builtin_popcount(cfg->reports[r].vars);
  S->rec = cl_calloc(n, sizeof *S->rec);
  CL_ALLOC_CHECK(S->rec);
  for (size_t r = 0; r < cfg->n_reports; r++) {
    const cl_report_config *rc = &cfg->reports[r];
    const cl_pop *pop = &S->net.pops[rc->population];
    uint64_t first = pop->cfg->first_gid, P = (uint64_t)S->size;
    for (int v = 0; v < CL_NVARS; v++) {
      if (!(rc->vars & (1u << v)))
        continue;
      recording *R = &S->rec[S->n_rec++];
      R->pop = pop;
      R->var = v;
      R->every = steps_of(rc->interval, cfg->sim.dt);
      if (R->every < 1)
        R->every = 1;
      uint64_t cap = rc->sel.all ? pop->n_local : rc->sel.n;
      R->j = cl_malloc(cap * sizeof *R->j);
      R->node_ids = cl_malloc(cap * sizeof *R->node_ids);
      R->values = cl_malloc(cap * sizeof *R->values);
      CL_ALLOC_CHECK(R->j && R->node_ids && R->values);
      for (uint64_t i = 0; i < cap; i++) {
        uint64_t node = rc->sel.all ? pop->gid0 + i * P - first : rc->sel.ids[i];
        if (cl_gid_rank(first + node, S->size) != S->rank)
          continue;
        R->node_ids[R->n] = node;
        R->j[R->n++] = (first + node - pop->gid0) / P;
      }
    }
  }
  return CL_OK;
}

static int open_output(sim *S) {
  const cl_config *cfg = S->cfg;
  cl_output_spike_pop *sp = cl_calloc(cfg->n_populations, sizeof *sp);
  cl_output_report *rp = cl_calloc(S->n_rec, sizeof *rp);
  char(*stems)[2 * CL_NAME_MAX + 8] = cl_calloc(S->n_rec, sizeof *stems);
  S->spike_slot = cl_malloc(cfg->n_populations * sizeof *S->spike_slot);
  CL_ALLOC_CHECK(sp && rp && stems && S->spike_slot);
  size_t nsp = 0;
  for (size_t p = 0; p < cfg->n_populations; p++) {
    S->spike_slot[p] = -1;
    if (cfg->populations[p].record_spikes) {
      S->spike_slot[p] = (int)nsp;
      const cl_population_config *pc = &cfg->populations[p];
      sp[nsp++] =
          (cl_output_spike_pop){pc->name, pc->size, pc->spike_sel.all ? 0 : pc->spike_sel.n};
    }
  }
  size_t k = 0;
  for (size_t r = 0; r < cfg->n_reports; r++) {
    const cl_report_config *rc = &cfg->reports[r];
    for (int v = 0; v < CL_NVARS; v++) {
      if (!(rc->vars & (1u << v)))
        continue;
      recording *R = &S->rec[k];
      /* samples at the steps that are multiples of `every`, from the output's first step on */
      const int64_t k0 = (S->first + R->every - 1) / R->every;
      snprintf(stems[k], sizeof stems[k], "%s_%s", rc->name, cl_var_names[v]);
      rp[k] =
          (cl_output_report){.file_stem = stems[k],
                             .population = R->pop->cfg->name,
                             .variable = cl_var_names[v],
                             .units = cl_var_units[v],
                             .n_local = R->n,
                             .local_node_ids = R->node_ids,
                             .t_start = (double)(k0 * R->every) * cfg->sim.dt,
                             .dt = (double)R->every * cfg->sim.dt,
                             .n_times = (uint64_t)((S->n_steps + R->every - 1) / R->every - k0)};
      k++;
    }
  }
  S->edges = cl_calloc(cfg->n_projections + 1, sizeof *S->edges);
  int status = S->edges ? CL_OK : CL_ERR_MEM;
  /* a continued run keeps the edges.h5 its first part wrote */
  if ((status = cl_error_agree(S->comm, status)) == CL_OK && !S->opt->resume)
    status = cl_edges_describe(cfg, S->syn.n_per_projection, S->comm, S->edges, &S->n_edges);
  const cl_output_resume resume = {S->resumed.spikes, S->resumed.spike_t_max, S->resumed.rows};
  S->n_spike_pops = nsp;
  cl_output_desc desc = {.dir = cfg->sim.output,
                         .force = S->opt->force,
                         .n_spike_pops = nsp,
                         .spike_pops = sp,
                         .n_reports = S->n_rec,
                         .reports = rp,
                         .spike_buffer_bytes = CL_FLUSH_SPIKE_BYTES,
                         .n_edges = S->n_edges,
                         .edges = S->edges,
                         .resume = S->opt->resume ? &resume : NULL};
  if (status == CL_OK)
    status = cl_output_open(&S->out, S->comm, &desc);
  free(sp);
  free(rp);
  free(stems);
  return status;
}

/* The masks of the populations whose record_spikes names neurons: 1 for each local neuron
 * (local index within the population) among them. */
static int spike_masks(sim *S) {
  const cl_network *net = &S->net;
  S->spike_mask = cl_calloc(net->n_pops + 1, sizeof *S->spike_mask);
  CL_ALLOC_CHECK(S->spike_mask);
  for (size_t p = 0; p < net->n_pops; p++) {
    const cl_pop *pop = &net->pops[p];
    const cl_selection *sel = &pop->cfg->spike_sel;
    if (!pop->cfg->record_spikes || sel->all || pop->n_local == 0) /* (gid0 unset) */
      continue;
    uint8_t *m = cl_calloc(pop->n_local + 1, 1);
    CL_ALLOC_CHECK(m);
    S->spike_mask[p] = m;
    const uint64_t P = (uint64_t)S->size, first = pop->gid0 - pop->cfg->first_gid;
    for (size_t k = 0; k < sel->n; k++) /* node id = first + j P for local neuron j */
      if (sel->ids[k] >= first && (sel->ids[k] - first) % P == 0)
        m[(sel->ids[k] - first) / P] = 1;
  }
  return CL_OK;
}

/* A continued run: the state, counts and spikes in transit of the checkpoint in
 * S->opt->resume. Collective. */
static int resume(sim *S) {
  uint64_t *gid = NULL;
  int64_t *step = NULL;
  size_t n = 0;
  char path[CL_PATH_MAX + sizeof CL_CHECKPOINT_FILE + 1];
  snprintf(path, sizeof path, "%s/" CL_CHECKPOINT_FILE, S->opt->resume);
  CL_CALL(cl_checkpoint_read(path, S->cfg, &S->net, &S->stim, &S->resumed, &gid, &step, &n, 0,
                             S->comm));
  const double dt = S->cfg->sim.dt;
  int status = CL_OK;
  S->n0 = S->resumed.step;
  S->first = S->resumed.first_step;
  if (S->n0 >= S->n_steps)
    status =
        CL_ERROR(CL_ERR_USER,
                 "%s/" CL_CHECKPOINT_FILE " is at t = %.10g ms and simulation.t_stop is "
                 "%.10g ms: nothing to continue (give a later t_stop, e.g. --set "
                 "simulation.t_stop=\"%.10g ms\")",
                 S->opt->resume, (double)S->n0 * dt, S->cfg->sim.t_stop, 2.0 * (double)S->n0 * dt);
  else
    status = cl_synapses_enqueue_from(&S->syn, &S->queue, gid, step, n, S->n0);
  /* the spikes of the earlier parts count on rank 0 */
  for (size_t p = 0; p < S->net.n_pops && S->rank == 0; p++)
    S->net.pops[p].n_spikes = S->resumed.spike_count[p];
  free(gid);
  free(step);
  return cl_error_agree(S->comm, status);
}

/* A run from another run's state (simulation.initial_state, whose network main.c checked): the
 * state of the populations and the spikes in transit of that checkpoint; it starts at its step,
 * with its own stimuli, spike counts and output. Collective. */
static int start_from(sim *S) {
  uint64_t *gid = NULL;
  int64_t *step = NULL;
  size_t n = 0;
  char path[CL_PATH_MAX + sizeof CL_CHECKPOINT_FILE + 1];
  cl_checkpoint_path(S->cfg->sim.initial_state, path, sizeof path);
  cl_checkpoint_counts c;
  CL_CALL(cl_checkpoint_read(path, S->cfg, &S->net, &S->stim, &c, &gid, &step, &n, 1, S->comm));
  S->n0 = S->first = c.step;
  cl_checkpoint_counts_free(&c);
  int status = CL_OK;
  if (S->n0 >= S->n_steps) /* (main.c checks this first) */
    status = CL_ERROR(CL_ERR_USER,
                      "%s: simulation.t_stop = %.10g ms is not after the initial "
                      "state's t = %.10g ms",
                      S->cfg->path, S->cfg->sim.t_stop, (double)S->n0 * S->cfg->sim.dt);
  else
    status = cl_synapses_enqueue_from(&S->syn, &S->queue, gid, step, n, S->n0);
  cl_stimuli_start_at(&S->stim, &S->net, S->n0);
  free(gid);
  free(step);
  return cl_error_agree(S->comm, status);
}

/* The neuron states into the plain form of files (to_plain) or back into the kernel's at the
 * start of step (cl_neuron_state_export, _import). */
static void convert_states(sim *S, int to_plain, int64_t step) {
  for (size_t p = 0; p < S->net.n_pops; p++) {
    cl_pop *pop = &S->net.pops[p];
    if (pop->cfg->model != CL_MODEL_COND_ALPHA)
      continue;
    if (to_plain)
      cl_neuron_state_export(&pop->kernel, &pop->state);
    else
      cl_neuron_state_import(&pop->kernel, &pop->state, step);
  }
}

/* The runs of populations that one kernel call updates (cl_network_kernel_run), with the state
 * of each run of more than one. */
static int plan_runs(sim *S) {
  const cl_network *net = &S->net;
  S->run = cl_calloc(net->n_pops, sizeof *S->run);
  S->run_state = cl_calloc(net->n_pops, sizeof *S->run_state);
  CL_ALLOC_CHECK(S->run && S->run_state);
  for (size_t p = 0; p < net->n_pops;) {
    const size_t len = cl_network_kernel_run(net, p);
    S->run[p] = len;
    if (len > 1) { /* from the first one's first neuron to the last one's last */
      const cl_neuron_state *first = &net->pops[p].state;
      const cl_pop *last = &net->pops[p + len - 1];
      const uint64_t n = last->in_begin + last->n_local - net->pops[p].in_begin;
      S->run_state[p] = (cl_neuron_state){.n = n,
                                          .V_m = first->V_m,
                                          .g_ex = first->g_ex,
                                          .x_ex = first->x_ex,
                                          .g_in = first->g_in,
                                          .x_in = first->x_in,
                                          .t_ref_end = first->t_ref_end,
                                          .k1 = first->k1,
                                          .tre_min = first->tre_min};
    }
    p += len ? len : 1;
  }
  return CL_OK;
}

/* Everything up to the time loop; every step that can fail on some ranks only ends in an
 * agreement, so all ranks leave together. */
static int setup(sim *S) {
  const cl_config *cfg = S->cfg;
  S->n_steps = steps_of(cfg->sim.t_stop, cfg->sim.dt);
  int status = cl_network_create(&S->net, cfg, S->rank, S->size);
  if (status == CL_OK)
    status = cl_synapses_build_local(&S->syn, cfg, &S->net);
  CL_CALL(cl_synapses_finish(&S->syn, cfg, &S->net, S->comm, status));
  /* No ring buffers: received spikes wait in S->queue, and each step's arrivals are added to
   * the targets' x_ex and x_in just before the step (see run_loop), so the delays live in the
   * queue of spikes rather than in D_max + 1 slots per neuron, and the update reads no input
   * rows. */
  status = cl_stimuli_create(&S->stim, cfg, &S->net);
  if (status == CL_OK)
    status = cl_exchange_init(&S->ex, S->comm);
  if (status == CL_OK)
    status = setup_recordings(S);
  if (status == CL_OK)
    status = plan_runs(S);
  if (status == CL_OK) {
    size_t most = 1;
    for (size_t p = 0; p < S->net.n_pops; p++) {
      const size_t n = S->run[p] > 1 ? S->run_state[p].n : S->net.pops[p].n_local;
      most = n > most ? n : most;
    }
    S->spike_idx = cl_malloc(most * sizeof *S->spike_idx);
    S->spike_t = cl_malloc(most * sizeof *S->spike_t);
    S->node_ids = cl_malloc(most * sizeof *S->node_ids);
    if (!S->spike_idx || !S->spike_t || !S->node_ids)
      status = CL_ERR_MEM;
  }
  if (status == CL_OK)
    status = spike_masks(S);
  status = cl_error_agree(S->comm, status);
  CL_CALL(status);
  if (S->opt->resume)
    CL_CALL(resume(S));
  else if (S->cfg->sim.initial_state[0])
    CL_CALL(start_from(S));
  if (S->opt->resume || S->cfg->sim.initial_state[0])
    convert_states(S, 0, S->n0); /* read in the plain form */
  S->slice = cl_exchange_slice(S->syn.d_min);
  return open_output(S);
}

static void record_spikes(sim *S, cl_pop *pop, size_t n, const uint32_t *idx, double *t,
                          int64_t in_slice) {
  uint64_t P = (uint64_t)S->size;
  for (size_t i = 0; i < n; i++) {
    uint64_t gid = pop->gid0 + idx[i] * P;
    cl_exchange_push(&S->ex, in_slice, gid);
    S->node_ids[i] = gid - pop->cfg->first_gid;
  }
  pop->n_spikes += n;
  int slot = S->spike_slot[pop->index];
  const uint8_t *mask = S->spike_mask[pop->index];
  if (slot >= 0 && mask) { /* only the selected neurons' spikes, compacted in place */
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
      if (mask[idx[i]]) {
        S->node_ids[m] = S->node_ids[i];
        t[m++] = t[i];
      }
    n = m;
  }
  if (slot >= 0 && n > 0 && cl_output_add_spikes(S->out, (size_t)slot, n, S->node_ids, t))
    cl_error_abort("%s", cl_error_message());
}

typedef struct {
  sim *S;
  int64_t in_slice;
  size_t n;
  cl_pop *pop;
} source_batch;

static void flush_sources(source_batch *b) {
  if (b->n > 0)
    record_spikes(b->S, b->pop, b->n, b->S->spike_idx, b->S->spike_t, b->in_slice);
  b->n = 0;
}

static void emit_source(void *ctx, cl_pop *pop, uint64_t j, double t) {
  source_batch *b = ctx;
  if (b->pop != pop || b->n == pop->n_local)
    flush_sources(b);
  b->pop = pop;
  b->S->spike_idx[b->n] = (uint32_t)j;
  b->S->spike_t[b->n++] = t;
}

/* Samples the state at t_n, right-continuous: x includes the input arriving at t_n (delivered
 * before the sample), as the reference solutions do. */
static void sample(sim *S, int64_t step) {
  for (size_t r = 0; r < S->n_rec; r++) {
    recording *R = &S->rec[r];
    if (step % R->every)
      continue;
    const double *a = var_array(R->pop, R->var);
    if (R->var == CL_VAR_V_M) { /* NaN while held at V_reset (cl_neuron_state) */
      for (uint64_t i = 0; i < R->n; i++)
        R->values[i] = (float)cl_neuron_V(&R->pop->kernel, a[R->j[i]]);
    } else { /* the conductances are stored scaled (cl_scale) */
      const int r = R->var == CL_VAR_G_IN || R->var == CL_VAR_X_IN;
      const cl_scale *sc = &R->pop->kernel.scale[r];
      const double f = R->var == CL_VAR_X_EX || R->var == CL_VAR_X_IN ? cl_scale_out_x(sc, step)
                                                                      : cl_scale_out(sc, step);
      for (uint64_t i = 0; i < R->n; i++)
        R->values[i] = (float)(a[R->j[i]] * f);
    }
    if (cl_output_add_sample(S->out, r, R->values))
      cl_error_abort("%s", cl_error_message());
  }
}

static void poll_exchange(void *ex) {
  cl_exchange_poll(ex);
}

/* With poll, an exchange is in flight: MPI gets to progress it within and between populations. */
static void update(sim *S, int64_t step, int64_t in_slice, int poll) {
  cl_network *net = &S->net;
  cl_stimuli_currents(&S->stim, net, step);
  /* in population order, so that the spikes reach the exchange in (step, gid) order */
  for (size_t p = 0; p < net->n_pops; p++) {
    cl_pop *pop = &net->pops[p];
    if (pop->n_local == 0)
      continue;
    if (poll)
      cl_exchange_poll(&S->ex);
    if (pop->cfg->model != CL_MODEL_COND_ALPHA) {
      source_batch b = {.S = S, .in_slice = in_slice};
      cl_network_source_step(net, pop, step, emit_source, &b);
      flush_sources(&b);
      continue;
    }
    cl_neuron_input in = {.in_ex = NULL, /* the inputs are in x already */
                          .in_in = NULL,
                          .I0 = pop->I0,
                          .Ih = pop->Ih,
                          .I1 = pop->I1,
                          .poll = poll ? poll_exchange : NULL,
                          .poll_ctx = &S->ex};
    /* the populations of the run (pop and those after it: no currents then) */
    const size_t len = S->run[p];
    cl_neuron_state *st = len > 1 ? &S->run_state[p] : &pop->state;
    const size_t n = cl_neuron_step(&pop->kernel, st, step, &in, S->spike_idx, S->spike_t);
    size_t i = 0; /* the spikes come in increasing index: each population's in turn */
    for (size_t q = p; q < p + len; q++) {
      cl_pop *pq = &net->pops[q];
      const uint32_t off = (uint32_t)(pq->in_begin - pop->in_begin);
      const size_t first = i;
      for (; i < n && S->spike_idx[i] - off < pq->n_local; i++)
        S->spike_idx[i] -= off;
      record_spikes(S, pq, i - first, S->spike_idx + first, S->spike_t + first, in_slice);
    }
    p += len - 1;
  }
}

static double peak_rss_bytes(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_maxrss * 1024.0;
}

/* The progress line: rewritten in place on a terminal; on a file or pipe (a batch job's log)
 * one line per report. */
static void progress(const sim *S, int64_t step, double t_wall0, int final, int tty) {
  double dt = S->cfg->sim.dt, wall = cl_timer_now() - t_wall0;
  /* of this run's part (a continued run began at n0) */
  double done = (double)(step - S->n0) / (double)(S->n_steps > S->n0 ? S->n_steps - S->n0 : 1);
  double sim_s = (double)(step - S->n0) * dt * 1e-3;
  double rtf = sim_s > 0 ? wall / sim_s : 0.0;
  double eta = done > 0 ? wall * (1.0 - done) / done : 0.0;
  fprintf(stderr,
          "%scondlif: t = %.1f / %.1f ms (%5.1f%%), %.3g s wall per s simulated, ETA %.0f s%s",
          tty ? "\r" : "", (double)step * dt, S->cfg->sim.t_stop,
          100.0 * (double)step / (double)(S->n_steps ? S->n_steps : 1), rtf, eta,
          final || !tty ? "\n" : "  ");
  fflush(stderr);
}

/* Completes the exchange of the slice that began at step `start` and queues its spikes; then,
 * with `flush`, writes the output every flush interval, or earlier when some rank's buffers are
 * full (the ranks agree through the exchange). Returns the agreed flags. */
static unsigned finish_exchange(sim *S, int64_t start, int flush, int64_t *next_flush,
                                int64_t flush_every) {
  const uint64_t *spikes;
  size_t n;
  cl_timer_start(&S->timer, CL_PHASE_EXCHANGE);
  const unsigned flags = cl_exchange_finish(&S->ex, &spikes, &n);
  const int any_full = (flags & CL_FLAG_FULL) != 0;
  cl_timer_start(&S->timer, CL_PHASE_DELIVER);
  cl_synapses_enqueue(&S->syn, &S->queue, spikes, n, start);
  int64_t end = start + S->slice;
  /* Every flush interval, once CL_FLUSH_WALL seconds have passed since the last flush, the
   * files are appended to and flushed (valid on disk); in between, a rank's buffers above
   * CL_FLUSH_BYTES (spikes: CL_FLUSH_SPIKE_BYTES) are appended without the flush. */
  const int durable = end >= *next_flush && (flags & CL_FLAG_SYNC);
  if (flush && (durable || any_full)) {
    cl_timer_start(&S->timer, CL_PHASE_WRITE);
    if ((durable ? cl_output_flush(S->out) : cl_output_append(S->out)) != CL_OK)
      cl_error_abort("%s", cl_error_message());
    if (durable) {
      *next_flush = end + flush_every;
      S->last_flush = cl_timer_now();
    }
  }
  cl_timer_stop(&S->timer);
  return flags;
}

static int write_checkpoint(sim *S, const uint64_t *counts);

/* Each population's spikes so far on this rank (local) and over all ranks (counts). Collective. */
static void spike_counts(const sim *S, uint64_t *local, uint64_t *counts) {
  const size_t np = S->cfg->n_populations;
  for (size_t p = 0; p < np; p++)
    local[p] = S->net.pops[p].n_spikes;
  MPI_Allreduce(local, counts, (int)np, MPI_UINT64_T, MPI_SUM, S->comm);
}

/* A checkpoint while running (checkpoint_interval), taken where a stop would end the run:
 * after the step `step` that ends the slice begun at `start`, whose exchange has not started. The
 * output is appended and synced first, so that the files on disk hold what the checkpoint
 * counts even if the job dies later. A failure is reported and the run goes on. Collective. */
static void periodic_checkpoint(sim *S, int64_t step, int64_t start) {
  const double t0 = cl_timer_now();
  cl_timer_start(&S->timer, CL_PHASE_WRITE);
  if (cl_output_flush(S->out) != CL_OK)
    cl_error_abort("%s", cl_error_message());
  const size_t np = S->cfg->n_populations;
  uint64_t *local = cl_calloc(2 * np + 1, sizeof *local);
  if (!local)
    cl_error_abort("out of memory for a checkpoint");
  spike_counts(S, local, local + np);
  S->n_done = step + 1;
  S->unsent_start = start;
  const int st = write_checkpoint(S, local + np);
  free(local);
  if (st == CL_OK) {
    S->n_periodic++;
    S->periodic_t = (double)S->n_done * S->cfg->sim.dt;
  } else if (S->rank == 0)
    fprintf(stderr,
            "condlif: warning: the checkpoint at t = %.10g ms was not written (%s); the "
            "run goes on\n",
            (double)S->n_done * S->cfg->sim.dt, cl_error_message());
  cl_timer_stop(&S->timer);
  S->last_ckpt = cl_timer_now();
  S->ckpt_wall += S->last_ckpt - t0;
}

/* The run advances in slices of E = ceil(D_min / 2) steps, and the exchange of a slice overlaps
 * the whole next slice: a spike of step n >= s (s the first step of its slice) with delay
 * d >= D_min arrives at n + 1 + d >= s + 2E, the step after the next slice, so the exchange
 * is finished at the next slice's end. A rank that finished a slice early computes the next
 * one instead of waiting for a slower rank (E steps of slack, against one step with slices of
 * D_min and the exchange finished after the next slice's first step), at twice as many
 * exchanges. Sets S->n_done: a stop signal ends the loop on every rank at the end of the slice
 * in which the exchange that carried it finished. */
static void run_loop(sim *S) {
  double dt = S->cfg->sim.dt;
  int64_t flush_every =
      steps_of(fmin(S->cfg->sim.spike_flush_interval, S->cfg->sim.report_flush_interval), dt);
  if (flush_every < 1)
    flush_every = 1;
  int64_t next_flush = S->n0 + flush_every;
  int show = S->rank == 0 && S->opt->progress;
  /* every second on a terminal, every CL_PROGRESS_LOG seconds into a log */
  const int tty = show && isatty(STDERR_FILENO);
  const double every = tty ? 1.0 : CL_PROGRESS_LOG;
  double t0 = cl_timer_now(), next_show = t0 + every;
  S->last_flush = S->last_ckpt = t0;
  const double ckpt_every = S->cfg->sim.checkpoint_interval * 1e-3; /* s of wall-clock time */
  int64_t in_flight = -1; /* the start of the slice being exchanged */
  for (int64_t start = S->n0; start < S->n_steps; start += S->slice) {
    int64_t end = start + S->slice < S->n_steps ? start + S->slice : S->n_steps;
    const int poll = in_flight >= 0 && S->size > 1;
    for (int64_t step = start; step < end; step++) {
      if (S->queue.n) {
        cl_timer_start(&S->timer, CL_PHASE_DELIVER);
        cl_synapses_deliver(&S->syn, &S->queue, S->net.state.x_ex, S->net.state.x_in, step);
      }
      cl_timer_start(&S->timer, CL_PHASE_UPDATE);
      cl_stimuli_inject(&S->stim, &S->net, step);
      if (S->n_rec) {
        cl_timer_start(&S->timer, CL_PHASE_WRITE);
        sample(S, step);
        cl_timer_start(&S->timer, CL_PHASE_UPDATE);
      }
      update(S, step, step - start, poll);
    }
    if (in_flight >= 0) {
      unsigned flags = finish_exchange(S, in_flight, 1, &next_flush, flush_every);
      in_flight = -1;
      if (flags & CL_FLAG_STOP) {
        S->n_done = end;
        S->unsent_start = start;
        if (show)
          progress(S, S->n_done, t0, 1, tty);
        return;
      }
      if ((flags & CL_FLAG_CKPT) && end < S->n_steps)
        periodic_checkpoint(S, end - 1, start);
    }
    cl_timer_start(&S->timer, CL_PHASE_EXCHANGE);
    int full = cl_output_buffered_bytes(S->out) > CL_FLUSH_BYTES ||
               cl_output_buffered_spike_bytes(S->out) > CL_FLUSH_SPIKE_BYTES;
    const double now = S->rank == 0 ? cl_timer_now() : 0.0;
    const int sync = S->rank == 0 && now - S->last_flush >= CL_FLUSH_WALL;
    const int ckpt = S->rank == 0 && ckpt_every > 0 && now - S->last_ckpt >= ckpt_every;
    cl_exchange_start(&S->ex, &S->syn,
                      (full ? CL_FLAG_FULL : 0u) | (stop_signal ? CL_FLAG_STOP : 0u) |
                          (sync ? CL_FLAG_SYNC : 0u) | (ckpt ? CL_FLAG_CKPT : 0u));
    in_flight = start;
    cl_timer_stop(&S->timer);
    if (show && cl_timer_now() >= next_show) {
      progress(S, end, t0, 0, tty);
      next_show = cl_timer_now() + every;
    }
  }
  if (in_flight >= 0) /* the last slice's spikes reach no step of the run */
    finish_exchange(S, in_flight, 0, &next_flush, flush_every);
  S->n_done = S->n_steps;
  if (show)
    progress(S, S->n_steps, t0, 1, tty);
}

/* Writes <output>/checkpoint.h5 at the step the run ended with (after the output's last
 * append: the files' sizes are the ones the checkpoint counts). Collective. */
static int write_checkpoint(sim *S, const uint64_t *counts) {
  const cl_spike_queue *q = &S->queue;
  size_t n_unsent = 0;
  const uint64_t *unsent = cl_exchange_unsent(&S->ex, &n_unsent);
  const size_t n = q->n + n_unsent, n_spk = S->n_spike_pops;
  uint64_t *gid = cl_malloc((n + 1) * sizeof *gid);
  int64_t *step = cl_malloc((n + 1) * sizeof *step);
  cl_checkpoint_counts c = {.step = S->n_done,
                            .first_step = S->first,
                            .spike_count = (uint64_t *)counts,
                            .n_spike_files = n_spk,
                            .spikes = cl_calloc(n_spk + 1, sizeof(uint64_t)),
                            .spike_t_max = cl_calloc(n_spk + 1, sizeof(double)),
                            .n_reports = S->n_rec,
                            .rows = cl_calloc(S->n_rec + 1, sizeof(uint64_t))};
  int status = gid && step && c.spikes && c.spike_t_max && c.rows ? CL_OK : CL_ERR_MEM;
  if ((status = cl_error_agree(S->comm, status)) == CL_OK) {
    /* the spikes queued for delivery here, and this rank's spikes of the step whose exchange
     * the stop left unsent */
    cl_synapses_queued(&S->syn, q, gid, step);
    for (size_t i = 0; i < n_unsent; i++) {
      gid[q->n + i] = unsent[i] & CL_SPIKE_GID_MASK;
      step[q->n + i] = S->unsent_start + (int64_t)(unsent[i] >> CL_SPIKE_STEP_SHIFT);
    }
    cl_output_written(S->out, c.spikes, c.spike_t_max, c.rows);
    const char *text = S->opt->config_text ? S->opt->config_text : S->cfg->text;
    convert_states(S, 1, c.step); /* files hold the plain form (cl_neuron_state_export) */
    status = cl_checkpoint_write(S->cfg->sim.output, text, S->cfg, &S->net, &S->stim, gid, step, n,
                                 &c, S->comm);
    convert_states(S, 0, c.step);
  }
  free(gid);
  free(step);
  free(c.spikes);
  free(c.spike_t_max);
  free(c.rows);
  return status;
}

static void summary(const sim *S, FILE *f, double wall, const uint64_t *counts,
                    const double *tmax) {
  const cl_config *cfg = S->cfg;
  /* the spikes counted are those from the output's first step on */
  const double T = (double)S->n_done * cfg->sim.dt, T0 = (double)S->first * cfg->sim.dt;
  uint64_t total = 0;
  for (size_t p = 0; p < cfg->n_populations; p++)
    total += counts[p];
  fprintf(f, "condlif %s: %d rank%s, %llu neurons, %llu synapses, %llu spikes in %.1f ms\n",
          CL_VERSION_STRING, S->size, S->size == 1 ? "" : "s", (unsigned long long)cfg->n_total,
          (unsigned long long)S->syn.n_global, (unsigned long long)total, T - T0);
  for (size_t p = 0; p < cfg->n_populations; p++) {
    const cl_population_config *pc = &cfg->populations[p];
    double rate =
        pc->size && T > T0 ? (double)counts[p] / (double)pc->size / ((T - T0) * 1e-3) : 0.0;
    fprintf(f, "  %-16s %10llu neurons %12llu spikes %9.3f Hz\n", pc->name,
            (unsigned long long)pc->size, (unsigned long long)counts[p], rate);
  }
  if (S->n_edges > 0) {
    uint64_t n = 0;
    for (size_t e = 0; e < S->n_edges; e++)
      n += S->edges[e].n;
    fprintf(f, "  edges.h5: %llu synapses of %zu projection%s, written in %.3f s\n",
            (unsigned long long)n, S->n_edges, S->n_edges == 1 ? "" : "s", S->edges_wall);
  }
  if (S->ckpt_written || S->n_periodic)
    fprintf(f, "  checkpoint.h5 at t = %.10g ms; %d checkpoint%s written in %.3f s\n",
            S->ckpt_written ? T : S->periodic_t, S->n_periodic + S->ckpt_written,
            S->n_periodic + S->ckpt_written == 1 ? "" : "s", S->ckpt_wall);
  /* per simulated second of this part: the time loop and the end, without building, edges.h5
   * and the checkpoint */
  const double loop = wall - tmax[CL_PHASE_BUILD] - S->edges_wall - S->ckpt_wall;
  const double part = (double)(S->n_done - S->n0) * cfg->sim.dt;
  fprintf(f, "  wall %.3f s (build %.3f s), %.3f s per simulated second; output in %s\n", wall,
          tmax[CL_PHASE_BUILD], part > 0 ? loop / (part * 1e-3) : 0.0, cfg->sim.output);
  if (S->opt->resume)
    fprintf(f, "  continued from the checkpoint at t = %.10g ms\n", (double)S->n0 * cfg->sim.dt);
  if (cfg->sim.initial_state[0])
    fprintf(f, "  started at t = %.10g ms from the state of %s\n", T0, cfg->sim.initial_state);
}

static void teardown(sim *S) {
  for (size_t r = 0; r < S->n_rec; r++) {
    free(S->rec[r].j);
    free(S->rec[r].node_ids);
    free(S->rec[r].values);
  }
  free(S->rec);
  free(S->spike_slot);
  free(S->edges);
  free(S->run);
  free(S->run_state);
  free(S->spike_idx);
  free(S->spike_t);
  free(S->node_ids);
  for (size_t p = 0; S->spike_mask && p < S->net.n_pops; p++)
    free(S->spike_mask[p]);
  free(S->spike_mask);
  cl_exchange_destroy(&S->ex);
  cl_spike_queue_destroy(&S->queue);
  cl_checkpoint_counts_free(&S->resumed);
  cl_stimuli_destroy(&S->stim);
  cl_synapses_destroy(&S->syn);
  cl_network_destroy(&S->net);
}

int cl_sim_run(const cl_config *cfg, const cl_sim_options *opt, MPI_Comm comm, FILE *out) {
  sim S = {.cfg = cfg, .opt = opt, .comm = comm};
  MPI_Comm_rank(comm, &S.rank);
  MPI_Comm_size(comm, &S.size);
  cl_timer_init(&S.timer);
  double t_start = cl_timer_now();
  struct sigaction old[CL_NSTOP];
  catch_stop_signals(old);
  cl_timer_start(&S.timer, CL_PHASE_BUILD);
  int status = setup(&S);
  cl_timer_stop(&S.timer);
  if (status == CL_OK && S.n_edges > 0) {
    /* the network's synapses, before the run (which a failure here ends before it starts) */
    const double t0 = cl_timer_now();
    cl_timer_start(&S.timer, CL_PHASE_WRITE);
    status = cl_edges_write(S.out, cfg, S.edges, S.n_edges, comm);
    cl_timer_stop(&S.timer);
    S.edges_wall = cl_timer_now() - t0;
    if (status != CL_OK)
      cl_output_close(&S.out);
  }
  if (status != CL_OK) {
    teardown(&S);
    restore_stop_signals(old);
    return status;
  }
  run_loop(&S);
  const int stopped = S.n_done < S.n_steps;
  cl_timer_start(&S.timer, CL_PHASE_WRITE);
  /* appended only: writing the metadata next flushes the files (one sync to disk, not two) */
  if (cl_output_append(S.out) != CL_OK)
    cl_error_abort("%s", cl_error_message());
  cl_timer_stop(&S.timer);

  size_t np = cfg->n_populations;
  uint64_t *counts = cl_calloc(np, sizeof *counts), *local = cl_calloc(np, sizeof *local);
  const char **names = cl_calloc(np, sizeof *names);
  if (!counts || !local || !names)
    cl_error_abort("out of memory at the end of the run");
  for (size_t p = 0; p < np; p++)
    names[p] = cfg->populations[p].name;
  spike_counts(&S, local, counts);
  /* the checkpoint, at a stop (unless never) or at the end (when asked); a failure to write it
   * leaves the run's output complete, and the run fails after its metadata is written */
  const cl_checkpoint_mode mode = cfg->sim.checkpoint;
  int ckpt_status = CL_OK;
  /* (with checkpoints while running, one at the end too: the last is never older than the
   * files) */
  if (stopped ? mode != CL_CHECKPOINT_NEVER
              : mode == CL_CHECKPOINT_END || cfg->sim.checkpoint_interval > 0) {
    const double t0 = cl_timer_now();
    cl_timer_start(&S.timer, CL_PHASE_WRITE);
    ckpt_status = write_checkpoint(&S, counts);
    cl_timer_stop(&S.timer);
    S.ckpt_wall += cl_timer_now() - t0;
    S.ckpt_written = ckpt_status == CL_OK;
  }
  double wall = cl_timer_now() - t_start;
  char *resolved = cl_config_resolved_text(cfg);
  const double *secs = cl_timer_seconds(&S.timer); /* (the timer is stopped) */
  cl_output_meta meta = {.config_text = opt->config_text ? opt->config_text : cfg->text,
                         .resolved_text = resolved ? resolved : "",
                         .version = CL_VERSION_STRING,
                         .git_commit = cl_git_commit,
                         .seed = cfg->sim.seed,
                         .dt = cfg->sim.dt,
                         .t_stop = (double)S.n_done * cfg->sim.dt,
                         .t_start = (double)S.n0 * cfg->sim.dt,
                         .continued = opt->resume != NULL,
                         .initial_state = cfg->sim.initial_state[0] ? cfg->sim.initial_state : NULL,
                         .initial_t = (double)S.first * cfg->sim.dt,
                         .d_min_steps = S.syn.d_min,
                         .d_max_steps = S.syn.d_max,
                         .n_neurons = cfg->n_total,
                         .local_synapses = S.syn.n,
                         .n_pops = np,
                         .pop_names = names,
                         .local_spike_counts = local,
                         .n_timers = CL_NPHASES,
                         .timer_names = cl_phase_names,
                         .timer_seconds = secs,
                         .wall_seconds = wall,
                         .peak_rss_bytes = peak_rss_bytes(),
                         .completed = !stopped};
  status = cl_output_write_meta(S.out, &meta);
  if (status == CL_OK)
    status = cl_output_close(&S.out);
  status = cl_error_agree(comm, status);
  double tmax[CL_NPHASES];
  MPI_Reduce(secs, tmax, CL_NPHASES, MPI_DOUBLE, MPI_MAX, 0, comm);
  if (status == CL_OK && S.rank == 0 && !opt->quiet)
    summary(&S, out, wall, counts, tmax);
  if (status == CL_OK && ckpt_status != CL_OK)
    status = ckpt_status; /* its message is the one recorded */
  else if (status == CL_OK && stopped) {
    const double dt = cfg->sim.dt;
    status = CL_ERROR(CL_ERR_STOPPED,
                      "stopped by %s%s at t = %.10g ms of %.10g ms; %s holds the run up to there "
                      "(its metadata: t_stop_ms %.10g, no completed marker)%s%s",
                      signal_name(stop_signal), stop_signal ? "" : " to another rank",
                      (double)S.n_done * dt, (double)S.n_steps * dt, cfg->sim.output,
                      (double)S.n_done * dt,
                      S.ckpt_written ? "; go on from there with condlif --continue " : "",
                      S.ckpt_written ? cfg->sim.output : "");
  }
  free(resolved);
  free(counts);
  free(local);
  free(names);
  teardown(&S);
  restore_stop_signals(old);
  return status;
}
