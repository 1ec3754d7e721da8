/* Spike exchange between ranks: once per slice of ceil(D_min / 2) steps, each rank sends each
 * of its new spikes to the ranks hosting targets of its source, and gets back every spike it
 * must deliver, sorted by (step, gid).
 *
 * The exchange is split so that it overlaps the next slice, which no exchanged spike can reach
 * (a spike of step n with delay d >= D_min arrives at n + 1 + d; see run_loop in sim.c):
 * cl_exchange_start posts it, cl_exchange_finish completes it. So that the spikes can travel
 * before the receivers know how many come, every rank sends every rank a block of a fixed size
 * (MPI_Ialltoallv): two header words (the count for that rank; the sender's largest count and
 * its flags) and up to `cap` spikes. When some count exceeds cap (every rank sees every sender's
 * largest count, so all agree), the rest follows in a blocking MPI_Alltoallv, and cap grows;
 * it shrinks again when 128 slices in a row needed less than half of it. */
#ifndef CONDLIF_EXCHANGE_H
#define CONDLIF_EXCHANGE_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#include "condlif/synapses.h"

typedef struct {
  MPI_Comm comm;
  int rank, size;
  /* two header words, then this slice's spikes of local sources (step << 48 | gid, in that
   * order); `flight` is the same for the slice being exchanged (a send buffer until finish) */
  uint64_t *local, *flight;
  size_t n_local, cap_local, n_flight, cap_flight;
  int *scount, *rcount, *sdispl, *rdispl;   /* whole counts per rank and their offsets */
  int *ocount, *odispl, *orcount, *ordispl; /* the overflow beyond cap */
  int *bcount, *sbdispl, *rbdispl;          /* the fixed blocks: cap + 2 words each */
  uint64_t *sbuf, *blocks, *rblocks, *rbuf, *tmp, *obuf;
  size_t scap, bcap, rbcap, rcap, tcap, ocap;
  uint64_t *masks; /* with at most 64 ranks: the destination set of each local spike */
  size_t mask_cap;
  const uint64_t *data; /* the slice in flight, packed by destination (offsets sdispl) */
  size_t cap;           /* spikes per fixed block (the same on every rank) */
  size_t window_max;    /* largest count of the current window of slices */
  int window, pending;
  unsigned flags; /* this rank's flags for the slice in flight */
  MPI_Request req;
  uint64_t sent, received; /* spike messages over the run */
  uint64_t overflows;      /* slices whose counts exceeded cap */
} cl_exchange;

/* Steps per slice for the smallest delay d_min (steps): ceil(d_min / 2), so that a slice's
 * exchange can overlap the whole next slice (see run_loop in sim.c), at most 65535 (the width
 * of a spike's step field). The simulator's and --check's. */
static inline int64_t cl_exchange_slice(int64_t d_min) {
  return (d_min + 1) / 2 < 65535 ? (d_min + 1) / 2 : 65535;
}

/* Not collective. */
int cl_exchange_init(cl_exchange *ex, MPI_Comm comm);
void cl_exchange_destroy(cl_exchange *ex);

/* Queues a spike of local source gid in step step_in_slice (local; aborts the run when out
 * of memory, as this runs inside the time loop). Spikes must be pushed in (step, gid) order. */
void cl_exchange_push(cl_exchange *ex, int64_t step_in_slice, uint64_t gid);

/* Flags that travel with the spikes: the caller's bits, at most this many (the rest of the
 * header word holds a count). */
#define CL_EXCHANGE_FLAG_BITS 8

/* Posts the exchange of the queued spikes and empties the queue (new spikes may be pushed
 * before the finish). Collective, with cl_exchange_finish. flags (the low CL_EXCHANGE_FLAG_BITS
 * bits) travel with the spikes. */
void cl_exchange_start(cl_exchange *ex, const cl_synapses *syn, unsigned flags);

/* Lets MPI progress the exchange in flight (a receiver may need this rank to push the rest of
 * a large message); cheap, and nothing once it has completed. Not collective. */
void cl_exchange_poll(cl_exchange *ex);

/* Completes the exchange posted last. On return *spikes (owned by ex, valid until the next
 * start) holds the n spikes this rank must deliver, sorted by step then gid; the return value
 * is the OR of every rank's flags (so all ranks agree on them: the time loop uses them to flush
 * output early and to stop on a signal). */
unsigned cl_exchange_finish(cl_exchange *ex, const uint64_t **spikes, size_t *n);

/* The spikes pushed since the last start (step within their slice << CL_SPIKE_STEP_SHIFT |
 * gid), *n of them; valid until the next push or start. Not collective. */
const uint64_t *cl_exchange_unsent(const cl_exchange *ex, size_t *n);
/* Testing: sets the block capacity (every rank the same) before the first exchange. */
void cl_exchange_set_cap(cl_exchange *ex, size_t cap);

#endif
