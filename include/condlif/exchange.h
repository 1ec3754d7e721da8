/* Spike exchange between ranks: once per slice of D_min steps, each rank sends each of its
 * new spikes to the ranks hosting targets of its source (MPI_Alltoall of counts, then
 * MPI_Alltoallv), and gets back every spike it must deliver, sorted by (step, gid). */
#ifndef CONDLIF_EXCHANGE_H
#define CONDLIF_EXCHANGE_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#include "condlif/synapses.h"

typedef struct {
  MPI_Comm comm;
  int rank, size;
  uint64_t *local; /* this slice's spikes of local sources: step << 48 | gid, in that order */
  size_t n_local, cap_local;
  int *scount, *rcount, *sdispl, *rdispl;
  int *shead, *rhead; /* (count, flag) per rank for the Alltoall */
  uint64_t *sbuf, *rbuf, *tmp;
  size_t scap, rcap;
  uint64_t *masks; /* with at most 64 ranks: the destination set of each local spike */
  size_t mask_cap;
  uint64_t sent, received; /* spike messages over the run */
} cl_exchange;

/* Not collective. */
int cl_exchange_init(cl_exchange *ex, MPI_Comm comm);
void cl_exchange_destroy(cl_exchange *ex);

/* Queues a spike of local source gid in step step_in_slice (local; aborts the run when out
 * of memory, as this runs inside the time loop). Spikes must be pushed in (step, gid) order. */
void cl_exchange_push(cl_exchange *ex, int64_t step_in_slice, uint64_t gid);

/* Exchanges the queued spikes and empties the queue. Collective. On return *spikes (owned by
 * ex, valid until the next call) holds the n spikes this rank must deliver, sorted by step
 * then gid. flag travels with the counts at no extra cost: the return value is nonzero when
 * any rank passed a nonzero flag (used to agree on flushing output early). */
int cl_exchange_run(cl_exchange *ex, const cl_synapses *syn, int flag, const uint64_t **spikes,
                    size_t *n);

#endif
