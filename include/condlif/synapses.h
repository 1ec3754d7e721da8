/* Synapses stored on the rank of their target, grouped by source gid (CSR), and the
 * construction of them from the projections of a config (rank-independent: DESIGN.md §3).
 *
 * Per synapse: target local index with the receptor in the top bit (4 bytes), peak weight
 * (float nS, 4 bytes), delay in steps (1 byte, or 2 when the largest delay needs it). Within
 * a source, synapses keep their generation order, so every ring-buffer sum is formed in the
 * same order for any rank count. */
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
  uint64_t n_gids;            /* rows: every gid of the network */
  uint64_t *row;              /* [n_gids + 1]: synapses of source g are row[g] .. row[g+1] - 1 */
  uint32_t *target;           /* local target index | CL_SYN_INHIBITORY for inhibitory */
  float *weight;              /* nS (peak conductance) */
  uint8_t *delay8;            /* delay in steps when d_max < 256, else NULL */
  uint16_t *delay16;          /* delay in steps otherwise */
  uint64_t n;                 /* synapses on this rank */
  uint64_t n_global;          /* synapses in the network */
  uint64_t *n_per_projection; /* on this rank */
  int64_t d_min, d_max;       /* smallest and largest delay in steps over all ranks */
  /* ranks that host targets of each local source: bitset of `words` words per local index */
  int words;
  uint64_t *dest;
} cl_synapses;

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

/* Scratch space of the delivery (grown as needed, kept between calls); zero-initialise. */
typedef struct {
  size_t cap, n_counts;
  size_t *idx, *sorted_idx;
  float *w, *sorted_w;
  size_t *counts;
} cl_deliver_scratch;

/* Adds the weights of the synapses of each spike (sorted by step, then gid) to the ring
 * buffer slot of its arrival step slice_start + step + 1 + delay. Every ring-buffer entry
 * receives its inputs in delivery order (spike order, then each source's stored order), so the
 * sums are the same for any rank count. Not collective; aborts when out of memory (it runs
 * inside the time loop). */
void cl_synapses_deliver(const cl_synapses *syn, cl_deliver_scratch *sc, cl_ringbuf *rb,
                         const uint64_t *spikes, size_t n, int64_t slice_start);
void cl_deliver_scratch_destroy(cl_deliver_scratch *sc);

/* Bytes this rank uses for synapse storage (CSR rows, synapses, destination sets). */
size_t cl_synapses_bytes(const cl_synapses *syn);

/* Frees what syn owns. */
void cl_synapses_destroy(cl_synapses *syn);

#endif
