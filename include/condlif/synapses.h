/* Synapses stored on the rank of their target, grouped by source gid (CSR), and the
 * construction of them from the projections of a config (rank-independent: DESIGN.md §3).
 *
 * Per synapse: a 4-byte target word, entry << shift | local target index, where the entry
 * indexes the weight table; a peak weight (float nS, 4 bytes) unless the table holds it; a delay
 * in steps (none when each source's synapses share one delay, else 1 byte, or 2 when the
 * largest delay needs it). Within a source, synapses are sorted by delay and otherwise keep
 * their generation order, so every input sum is formed in the same order for any rank count.
 *
 * The weight table. When every projection's weight is a constant (the usual case: NEST's
 * static_synapse_hom_w, chosen here automatically), the distinct (weight, receptor, target's
 * decay time) triples form a table and a synapse's entry in it is all it stores of the three:
 * 4 bytes per synapse instead of 8, half the memory traffic of delivery. Otherwise each synapse
 * has its float weight, and the table's entries are the distinct (receptor, decay time) pairs
 * (two, {excitatory, inhibitory}, in the top bit when every population has the same tau_ex and
 * tau_in). The decay time is the target population's tau of the receptor: the target's x is
 * stored scaled by a factor that depends on it (cl_scale), and each entry has the scale of its
 * targets. */
#ifndef CONDLIF_SYNAPSES_H
#define CONDLIF_SYNAPSES_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#include "condlif/network.h"

/* Entries of a weight table at most (and so at most 8 bits of the target word). */
#define CL_SYN_TABLE_MAX 256

typedef struct {
  unsigned n;                         /* entries */
  unsigned shift;                     /* target word = entry << shift | local target index */
  float w[CL_SYN_TABLE_MAX];          /* nS (peak conductance); unused with per-synapse weights */
  uint8_t receptor[CL_SYN_TABLE_MAX]; /* 0 excitatory, 1 inhibitory */
  double tau[CL_SYN_TABLE_MAX];       /* ms: the targets' decay time of the receptor */
  uint8_t scale_of[CL_SYN_TABLE_MAX]; /* the entry's index in cl_synapses.scale */
  unsigned n_scales;                  /* distinct tau among the entries */
} cl_weight_table;

typedef struct {
  uint64_t n_gids;  /* rows: every gid of the network */
  uint64_t *row;    /* [n_gids + 1]: synapses of source g are row[g] .. row[g+1] - 1 */
  uint32_t *target; /* target words: entry << table.shift | local target index */
  float *weight;    /* nS (peak conductance); NULL when the table holds the weights */
  cl_weight_table table;
  /* Delays in steps: one per source when every local row has a single delay (row_delay; the
   * common case of one delay per projection), else one per synapse, in 1 byte when
   * d_max < 256 (delay8) or 2 (delay16). Exactly one of the three is set: build_local picks
   * it from the config, cl_synapses_finish may narrow it once the drawn delays are known. */
  uint16_t *row_delay;
  uint8_t *delay8;
  uint16_t *delay16;
  uint64_t n;                 /* synapses on this rank */
  uint64_t n_global;          /* synapses in the network */
  cl_scale *scale;            /* [table.n_scales]: of each distinct decay time (cl_scale_init) */
  uint64_t *n_per_projection; /* on this rank */
  int64_t d_min, d_max;       /* smallest and largest delay in steps over all ranks */
  /* ranks that host targets of each local source: bitset of `words` words per local index */
  int words;
  uint64_t *dest;
  int dest_all; /* every local source has targets on every rank (the exchange counts nothing) */
  /* Delivery gathers a step's synapses into a buffer before adding them where rows have one
   * delay (cl_synapses_deliver): set by build_local when the local x arrays outgrow the L2
   * cache (cl_synapses_gather_default), or as the environment variable CONDLIF_DELIVERY says
   * (auto, gather or direct: the same results, for diagnostics and tests); a test may change
   * it. */
  int gather;
} cl_synapses;

/* Delay in steps of synapse k, of source gid. */
static inline int64_t cl_synapses_delay(const cl_synapses *syn, uint64_t gid, uint64_t k) {
  return syn->row_delay ? syn->row_delay[gid] : syn->delay8 ? syn->delay8[k] : syn->delay16[k];
}

/* The weight table for a rank with n_inputs local neurons (cl_network.n_inputs): a table of
 * weights when every projection's weight is a constant, their distinct (weight, receptor, tau)
 * triples are at most CL_SYN_TABLE_MAX and the local index fits in the bits the entry leaves
 * (returns 1); else the distinct (receptor, tau) pairs, with weights stored per synapse
 * (returns 0); -1 (and the table empty) when even those leave too few bits for the local index
 * (more than about 2^31 / pairs neurons on one rank, or more than CL_SYN_TABLE_MAX pairs).
 * entry_of (NULL, or one byte per projection) receives each projection's entry. */
int cl_synapses_weight_table(const cl_config *cfg, uint64_t n_inputs, cl_weight_table *t,
                             uint8_t *entry_of);

/* Local target index (input index: into cl_network.state), receptor and weight of synapse k. */
static inline uint32_t cl_synapses_local(const cl_synapses *syn, uint64_t k) {
  return syn->target[k] & ((UINT32_C(1) << syn->table.shift) - 1);
}
static inline int cl_synapses_receptor(const cl_synapses *syn, uint64_t k) {
  return syn->table.receptor[syn->target[k] >> syn->table.shift];
}
static inline float cl_synapses_weight(const cl_synapses *syn, uint64_t k) {
  return syn->weight ? syn->weight[k] : syn->table.w[syn->target[k] >> syn->table.shift];
}

/* Synapses per block of construction's second pass (0: none, each synapse stored as it is
 * drawn; by default 2^20, on ranks with at least 2^22 synapses; once set here, at any size).
 * The network is the same either way; for tests. Not thread-safe. */
void cl_synapses_set_block(size_t synapses);

/* Builds this rank's incoming synapses of every projection, the global delay range and the
 * destination ranks of local sources. Collective over comm. On failure every rank returns
 * the same status and *syn is left empty. */
int cl_synapses_build(cl_synapses *syn, const cl_config *cfg, const cl_network *net, MPI_Comm comm);

/* The two halves of cl_synapses_build. build_local generates this rank's synapses (not
 * collective: a test may call it for any rank of any size in one process); finish agrees on
 * status (the local one is passed in), the delay range and the destination sets (collective;
 * destroys *syn on failure). */
int cl_synapses_build_local(cl_synapses *syn, const cl_config *cfg, const cl_network *net);
int cl_synapses_finish(cl_synapses *syn, const cl_config *cfg, const cl_network *net, MPI_Comm comm,
                       int status);

/* The network's synapses one by one, as construction draws them (to write them out): a
 * projection's synapses come in units, each drawn from streams of its own, so any rank can
 * draw any unit. The unit is the target node u for the per-target rules (the sources of
 * target u, in the order the target's rank stores them) and the source node u for
 * fixed_outdegree (the targets of source u, of every rank). Not collective. */
typedef struct {
  uint64_t source, target; /* gids */
  float weight;            /* nS, as stored */
  int64_t delay;           /* steps */
} cl_edge;
typedef struct cl_edge_gen cl_edge_gen;

int cl_edge_gen_open(cl_edge_gen **g, const cl_config *cfg);
void cl_edge_gen_close(cl_edge_gen **g);
/* The synapses of unit u of projection j: their number in *n and, with draw, the synapses in
 * *edges (valid until the next call); without draw *edges is NULL (counting is cheaper). */
int cl_edge_gen_unit(cl_edge_gen *g, size_t j, uint64_t u, int draw, const cl_edge **edges,
                     size_t *n);
/* Whether projection j's units are its sources (fixed_outdegree) rather than its targets. */
static inline int cl_edge_by_source(const cl_config *cfg, size_t j) {
  return cfg->projections[j].rule == CL_RULE_FIXED_OUTDEGREE;
}

/* A spike in transit: gid in the low 48 bits, step within its slice above. */
#define CL_SPIKE_STEP_SHIFT 48
#define CL_SPIKE_GID_MASK ((UINT64_C(1) << CL_SPIKE_STEP_SHIFT) - 1)

/* A received spike whose synapses have not all arrived yet. */
typedef struct {
  uint64_t end;   /* one past the source's last synapse (row[gid + 1], read once at enqueue) */
  int64_t step;   /* emission step: a synapse of delay d arrives at step + 1 + d */
  uint64_t next;  /* the source's first synapse not yet delivered */
  int64_t arrive; /* the step synapse `next` arrives at */
} cl_pending_spike;

/* Received spikes whose synapses have not all arrived, in (step, gid) order. Where rows have
 * one delay (cl_synapses.row_delay) they wait in a ring of buckets by arrival step (step & mask)
 * and delivery looks only at the step's bucket; with per-synapse delays a spike arrives in
 * several steps, and all wait in one bucket (mask 0). Zero-initialise; the first enqueue sizes
 * the ring. */
typedef struct {
  cl_pending_spike *s;
  size_t n, cap;
} cl_spike_bucket;
typedef struct {
  cl_spike_bucket *bucket; /* [mask + 1] */
  uint64_t mask;
  size_t n;          /* spikes in transit (over all buckets) */
  uint64_t ring_max; /* buckets at most, a power of two (0: 65536); a test may set it before the
                      * first enqueue: delays beyond it share buckets, the same deliveries */
} cl_spike_queue;

/* Appends the spikes (sorted by step, then gid) of the slice that starts at step slice_start to
 * the queue. Not collective; aborts when out of memory (it runs inside the time loop). */
void cl_synapses_enqueue(const cl_synapses *syn, cl_spike_queue *q, const uint64_t *spikes,
                         size_t n, int64_t slice_start);

/* Delivers every synapse that arrives at `step`: adds e w (w its peak weight) to the target's
 * x_ex or x_in (one entry per local input index: cl_network.state), and drops the spikes that
 * have nothing left to deliver. Call it before the step's update. Each target receives its
 * inputs in queue order, each source's synapses in stored order (sorted by delay, stably): the
 * same order for any rank count, so the sums are bit-identical across P. Not collective. */
void cl_synapses_deliver(const cl_synapses *syn, cl_spike_queue *q, double *x_ex, double *x_in,
                         int64_t step);
void cl_spike_queue_destroy(cl_spike_queue *q);
/* Whether delivery should gather (cl_synapses.gather) on a rank of n_inputs input indices: when
 * their x arrays (16 bytes each) exceed the L2 cache (sysconf; 1 MiB where unknown). */
int cl_synapses_gather_default(uint64_t n_inputs);
/* The spikes in transit (q->n of them, in no particular order): their source gids and emission
 * steps. */
void cl_synapses_queued(const cl_synapses *syn, const cl_spike_queue *q, uint64_t *gid,
                        int64_t *step);
/* Restores spikes in transit at step `now` of a continued run (a checkpoint's): appends the
 * spikes (gids and emission steps, sorted by step then gid) with their synapses that arrive at
 * `now` or later, as the queue of the run that wrote the checkpoint held them; spikes whose
 * synapses all arrived before `now` are dropped. Not collective; CL_ERR_MEM on failure. */
int cl_synapses_enqueue_from(const cl_synapses *syn, cl_spike_queue *q, const uint64_t *gid,
                             const int64_t *step, size_t n, int64_t now);

/* Bytes this rank uses for synapse storage (CSR rows, synapses, destination sets). */
size_t cl_synapses_bytes(const cl_synapses *syn);

/* Frees what syn owns. */
void cl_synapses_destroy(cl_synapses *syn);

#endif
