/* Synapses stored on the rank of their target, grouped by source gid (CSR), and the
 * construction of them from the projections of a config (rank-independent: DESIGN.md §3).
 *
 * Per synapse: target local index with the receptor in the top bit (4 bytes), peak weight
 * (float nS, 4 bytes), delay in steps (none when each source's synapses share one delay, else
 * 1 byte, or 2 when the largest delay needs it). Within a source, synapses are sorted by delay
 * and otherwise keep their generation order, so every input sum is formed in the same order for
 * any rank count. */
#ifndef CONDLIF_SYNAPSES_H
#define CONDLIF_SYNAPSES_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#include "condlif/network.h"
#include "condlif/ringbuf.h"

#define CL_SYN_INHIBITORY UINT32_C(0x80000000)
#define CL_SYN_TARGET_MASK UINT32_C(0x7fffffff)

typedef struct {
  uint64_t n_gids;  /* rows: every gid of the network */
  uint64_t *row;    /* [n_gids + 1]: synapses of source g are row[g] .. row[g+1] - 1 */
  uint32_t *target; /* local target index | CL_SYN_INHIBITORY for inhibitory */
  float *weight;    /* nS (peak conductance) */
  /* Delays in steps: one per source when every local row has a single delay (row_delay; the
   * common case of one delay per projection), else one per synapse, in 1 byte when
   * d_max < 256 (delay8) or 2 (delay16). Exactly one of the three is set: build_local picks
   * it from the config, cl_synapses_finish may narrow it once the drawn delays are known. */
  uint16_t *row_delay;
  uint8_t *delay8;
  uint16_t *delay16;
  uint64_t n;                 /* synapses on this rank */
  uint64_t n_global;          /* synapses in the network */
  uint64_t *n_per_projection; /* on this rank */
  int64_t d_min, d_max;       /* smallest and largest delay in steps over all ranks */
  /* ranks that host targets of each local source: bitset of `words` words per local index */
  int words;
  uint64_t *dest;
} cl_synapses;

/* Delay in steps of synapse k, of source gid. */
static inline int64_t cl_synapses_delay(const cl_synapses *syn, uint64_t gid, uint64_t k) {
  return syn->row_delay ? syn->row_delay[gid] : syn->delay8 ? syn->delay8[k] : syn->delay16[k];
}

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

/* A spike in transit: gid in the low 48 bits, step within its slice above. */
#define CL_SPIKE_STEP_SHIFT 48
#define CL_SPIKE_GID_MASK ((UINT64_C(1) << CL_SPIKE_STEP_SHIFT) - 1)

/* A received spike whose synapses have not all arrived yet. */
typedef struct {
  uint64_t gid;
  int64_t step;   /* emission step: a synapse of delay d arrives at step + 1 + d */
  uint64_t next;  /* the source's first synapse not yet delivered */
  int64_t arrive; /* the step synapse `next` arrives at */
} cl_pending_spike;

/* Spikes in transit, in (step, gid) order (zero-initialise). */
typedef struct {
  cl_pending_spike *s;
  size_t n, cap;
} cl_spike_queue;

/* Appends the spikes (sorted by step, then gid) of the slice that starts at step slice_start to
 * the queue. Not collective; aborts when out of memory (it runs inside the time loop). */
void cl_synapses_enqueue(const cl_synapses *syn, cl_spike_queue *q, const uint64_t *spikes,
                         size_t n, int64_t slice_start);

/* Adds the weights of every synapse that arrives at `step` to the input rows of that step
 * (row_ex, row_in: one entry per local input index) and drops the spikes that have nothing left
 * to deliver. Each entry receives its inputs in queue order, each source's synapses in stored
 * order (sorted by delay, stably): the same order for any rank count, so the sums are
 * bit-identical across P. Not collective. */
void cl_synapses_deliver(const cl_synapses *syn, cl_spike_queue *q, float *row_ex, float *row_in,
                         int64_t step);
void cl_spike_queue_destroy(cl_spike_queue *q);

/* Bytes this rank uses for synapse storage (CSR rows, synapses, destination sets). */
size_t cl_synapses_bytes(const cl_synapses *syn);

/* Frees what syn owns. */
void cl_synapses_destroy(cl_synapses *syn);

#endif
