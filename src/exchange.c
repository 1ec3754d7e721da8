#include "condlif/exchange.h"

#include <stdlib.h>
#include <string.h>

#include "condlif/error.h"

/* Spikes per fixed block at the start; slices in a window of the block's shrinking. */
#define CL_EXCHANGE_CAP0 256
#define CL_EXCHANGE_WINDOW 128

/* The block capacity for a largest count m: a quarter more, so that a slice a little busier
 * than the busiest so far still fits. */
static size_t cap_for(size_t m) {
  return m + m / 4 + 16;
}

int cl_exchange_init(cl_exchange *ex, MPI_Comm comm) {
  memset(ex, 0, sizeof *ex);
  ex->comm = comm;
  ex->req = MPI_REQUEST_NULL;
  ex->cap = CL_EXCHANGE_CAP0;
  MPI_Comm_rank(comm, &ex->rank);
  MPI_Comm_size(comm, &ex->size);
  size_t P = (size_t)ex->size;
  int **counts[] = {&ex->scount, &ex->rcount, &ex->ocount, &ex->orcount, &ex->bcount};
  int **displs[] = {&ex->sdispl,  &ex->rdispl,  &ex->odispl,
                    &ex->ordispl, &ex->sbdispl, &ex->rbdispl};
  int ok = 1;
  for (size_t i = 0; i < sizeof counts / sizeof *counts; i++)
    ok &= (*counts[i] = cl_calloc(P, sizeof(int))) != NULL;
  for (size_t i = 0; i < sizeof displs / sizeof *displs; i++)
    ok &= (*displs[i] = cl_calloc(P + 1, sizeof(int))) != NULL;
  if (!ok) {
    cl_exchange_destroy(ex);
    return CL_ERR_MEM;
  }
  return CL_OK;
}

void cl_exchange_destroy(cl_exchange *ex) {
  if (ex->pending) /* (never in a run: the time loop finishes every exchange it starts) */
    MPI_Wait(&ex->req, MPI_STATUS_IGNORE);
  void *arrays[] = {ex->local,   ex->flight,  ex->scount,  ex->rcount,  ex->sdispl,
                    ex->rdispl,  ex->ocount,  ex->odispl,  ex->orcount, ex->ordispl,
                    ex->bcount,  ex->sbdispl, ex->rbdispl, ex->sbuf,    ex->blocks,
                    ex->rblocks, ex->rbuf,    ex->tmp,     ex->obuf,    ex->masks};
  for (size_t i = 0; i < sizeof arrays / sizeof *arrays; i++)
    free(arrays[i]);
  memset(ex, 0, sizeof *ex);
}

void cl_exchange_set_cap(cl_exchange *ex, size_t cap) {
  ex->cap = cap;
}

/* Spikes ahead at which the destination sets are prefetched. */
#define CL_DEST_AHEAD 16

static void *grow(void *p, size_t *cap, size_t need, size_t elem) {
  if (need <= *cap)
    return p;
  size_t cap2 = *cap ? *cap : 1024;
  while (cap2 < need)
    cap2 *= 2;
  void *q = cl_realloc_prefault(p, cap2 * elem);
  if (!q)
    cl_error_abort("out of memory growing a spike buffer to %zu entries", cap2);
  *cap = cap2;
  return q;
}

void cl_exchange_push(cl_exchange *ex, int64_t step_in_slice, uint64_t gid) {
  if (2 + ex->n_local >= ex->cap_local)
    ex->local = grow(ex->local, &ex->cap_local, 3 + ex->n_local, sizeof *ex->local);
  ex->local[2 + ex->n_local++] = (uint64_t)step_in_slice << CL_SPIKE_STEP_SHIFT | gid;
}

/* Merges the sorted runs [displ[q], displ[q+1]) of a into one sorted sequence; returns the
 * buffer holding it (a or b). */
static uint64_t *merge_runs(uint64_t *a, uint64_t *b, const int *displ, int runs) {
  int *bounds = malloc(((size_t)runs + 1) * sizeof *bounds);
  if (!bounds)
    cl_error_abort("out of memory merging received spikes");
  memcpy(bounds, displ, ((size_t)runs + 1) * sizeof *bounds);
  while (runs > 1) {
    int out = 0;
    for (int r = 0; r < runs; r += 2) {
      int lo = bounds[r], mid = bounds[r + 1 < runs ? r + 1 : runs];
      int hi = r + 1 < runs ? bounds[r + 2] : mid;
      int i = lo, j = mid, k = lo;
      /* without a branch per element: the runs interleave at random, so a branch on the
       * comparison would be mispredicted about every other time */
      while (i < mid && j < hi) {
        const uint64_t x = a[i], y = a[j];
        const int take_j = y < x;
        b[k++] = take_j ? y : x;
        j += take_j;
        i += !take_j;
      }
      if (i < mid) /* (memcpy wants valid pointers even for 0 bytes) */
        memcpy(b + k, a + i, (size_t)(mid - i) * sizeof *a);
      k += mid - i;
      if (j < hi)
        memcpy(b + k, a + j, (size_t)(hi - j) * sizeof *a);
      bounds[out++] = lo;
    }
    bounds[out] = bounds[runs];
    runs = out;
    uint64_t *t = a;
    a = b;
    b = t;
  }
  free(bounds);
  return a;
}

/* The flags travel in the top CL_EXCHANGE_FLAG_BITS bits of the second header word. */
#define CL_HEAD_SHIFT (64 - CL_EXCHANGE_FLAG_BITS)
#define CL_HEAD_COUNT ((UINT64_C(1) << CL_HEAD_SHIFT) - 1)

const uint64_t *cl_exchange_unsent(const cl_exchange *ex, size_t *n) {
  *n = ex->n_local;
  return ex->n_local ? ex->local + 2 : NULL;
}

void cl_exchange_start(cl_exchange *ex, const cl_synapses *syn, unsigned flags) {
  if (ex->pending)
    cl_error_abort("internal error: a spike exchange started before the last one finished");
  const int P = ex->size, words = syn->words;
  /* the queued spikes go in flight; new ones queue in the other buffer */
  uint64_t *t = ex->flight;
  size_t c = ex->cap_flight;
  ex->flight = ex->local;
  ex->cap_flight = ex->cap_local;
  ex->n_flight = ex->n_local;
  ex->local = t;
  ex->cap_local = c;
  ex->n_local = 0;
  ex->pending = 1;
  ex->flags = flags & ((1u << CL_EXCHANGE_FLAG_BITS) - 1);
  if (P == 1) { /* the local spikes are the ones to deliver, already in (step, gid) order */
    ex->sent += ex->n_flight;
    return;
  }
  const size_t B = ex->cap + 2; /* words per fixed block */
  if ((size_t)P * B > (size_t)INT32_MAX)
    cl_error_abort("spike exchange blocks of %zu spikes for %d ranks exceed 2^31 entries", ex->cap,
                   P);
  ex->flight = grow(ex->flight, &ex->cap_flight, B, sizeof *ex->flight);
  const size_t n = ex->n_flight;
  const uint64_t *spk = ex->flight + 2;
  size_t total = 0;
  int to_all = 0; /* every spike goes to every rank */
  const int one_word = words == 1;
  if (syn->dest_all) { /* known from construction: nothing to count */
    for (int q = 0; q < P; q++)
      ex->scount[q] = (int)(n < (size_t)INT32_MAX ? n : (size_t)INT32_MAX);
    total = n * (size_t)P;
    to_all = n > 0;
  } else {
    /* The destination sets of the spiking sources are random reads: prefetched CL_DEST_AHEAD
     * spikes ahead, and with at most 64 ranks kept for the fill loop below. */
    memset(ex->scount, 0, (size_t)P * sizeof(int));
    if (one_word)
      ex->masks = grow(ex->masks, &ex->mask_cap, n, sizeof *ex->masks);
    uint64_t every = ~UINT64_C(0); /* (one word) the ranks that every local spike goes to */
    for (size_t i = 0; i < n; i++) {
      if (i + CL_DEST_AHEAD < n)
        __builtin_prefetch(syn->dest + cl_gid_local(spk[i + CL_DEST_AHEAD] & CL_SPIKE_GID_MASK, P) *
                                           (uint64_t)words);
      const uint64_t *bits =
          syn->dest + cl_gid_local(spk[i] & CL_SPIKE_GID_MASK, P) * (uint64_t)words;
      if (one_word) {
        ex->masks[i] = bits[0];
        every &= bits[0];
      }
      for (int w = 0; w < words; w++)
        for (uint64_t m = bits[w]; m; m &= m - 1) {
          ex->scount[w * 64 + __builtin_ctzll(m)]++;
          total++;
        }
    }
    /* (used with one word only, P <= 64; P >= 64 keeps the shift defined for more ranks) */
    const uint64_t all_ranks = P >= 64 ? ~UINT64_C(0) : (UINT64_C(1) << P) - 1;
    to_all = one_word && n > 0 && (every & all_ranks) == all_ranks;
  }
  if (total > (size_t)INT32_MAX)
    cl_error_abort("more than 2^31 spike messages in one slice");
  uint64_t most = 0;
  for (int q = 0; q < P; q++)
    if ((uint64_t)ex->scount[q] > most)
      most = (uint64_t)ex->scount[q];
  const uint64_t head = most | (uint64_t)ex->flags << CL_HEAD_SHIFT;
  /* When every spike goes to every rank (small P: a source's targets cover all ranks), each
   * rank is sent the same block: the flight buffer itself, its two header words in front of
   * the spikes, displacement 0 for all (MPI allows send regions to overlap). */
  const uint64_t *send;
  if (to_all) {
    for (int q = 0; q <= P; q++)
      ex->sdispl[q] = ex->sbdispl[q] = 0;
    ex->flight[0] = n;
    ex->flight[1] = head;
    ex->data = spk;
    send = ex->flight;
  } else {
    for (int q = 0; q < P; q++)
      ex->sdispl[q + 1] = ex->sdispl[q] + ex->scount[q];
    ex->sbuf = grow(ex->sbuf, &ex->scap, total, sizeof *ex->sbuf);
    int *pos = ex->rdispl; /* borrowed as fill cursors until the finish */
    memcpy(pos, ex->sdispl, (size_t)P * sizeof(int));
    for (size_t i = 0; i < n; i++) {
      const uint64_t *bits =
          one_word ? &ex->masks[i]
                   : syn->dest + cl_gid_local(spk[i] & CL_SPIKE_GID_MASK, P) * (uint64_t)words;
      for (int w = 0; w < words; w++)
        for (uint64_t m = bits[w]; m; m &= m - 1)
          ex->sbuf[pos[w * 64 + __builtin_ctzll(m)]++] = spk[i];
    }
    ex->data = ex->sbuf;
    ex->blocks = grow(ex->blocks, &ex->bcap, (size_t)P * B, sizeof *ex->blocks);
    for (int q = 0; q < P; q++) {
      uint64_t *b = ex->blocks + (size_t)q * B;
      size_t k = (size_t)ex->scount[q] < ex->cap ? (size_t)ex->scount[q] : ex->cap;
      b[0] = (uint64_t)ex->scount[q];
      b[1] = head;
      if (k)
        memcpy(b + 2, ex->sbuf + ex->sdispl[q], k * sizeof *b);
      ex->sbdispl[q] = q * (int)B;
    }
    send = ex->blocks;
  }
  ex->rblocks = grow(ex->rblocks, &ex->rbcap, (size_t)P * B, sizeof *ex->rblocks);
  for (int q = 0; q < P; q++) {
    ex->bcount[q] = (int)B;
    ex->rbdispl[q] = q * (int)B;
  }
  if (MPI_Ialltoallv(send, ex->bcount, ex->sbdispl, MPI_UINT64_T, ex->rblocks, ex->bcount,
                     ex->rbdispl, MPI_UINT64_T, ex->comm, &ex->req) != MPI_SUCCESS)
    cl_error_abort("MPI_Ialltoallv of spikes failed");
  int done;
  MPI_Test(&ex->req, &done, MPI_STATUS_IGNORE);
  ex->sent += total;
}

void cl_exchange_poll(cl_exchange *ex) {
  if (ex->pending && ex->req != MPI_REQUEST_NULL) {
    int done;
    MPI_Test(&ex->req, &done, MPI_STATUS_IGNORE);
  }
}

unsigned cl_exchange_finish(cl_exchange *ex, const uint64_t **spikes, size_t *n) {
  if (!ex->pending)
    cl_error_abort("internal error: a spike exchange finished that was not started");
  ex->pending = 0;
  const int P = ex->size;
  if (P == 1) {
    *spikes = ex->flight ? ex->flight + 2 : NULL; /* (NULL: nothing was ever pushed) */
    *n = ex->n_flight;
    ex->received += ex->n_flight;
    return ex->flags;
  }
  if (MPI_Wait(&ex->req, MPI_STATUS_IGNORE) != MPI_SUCCESS)
    cl_error_abort("MPI_Ialltoallv of spikes failed");
  const size_t cap = ex->cap, B = cap + 2;
  size_t most = 0;
  unsigned any_flags = 0;
  ex->rdispl[0] = 0;
  for (int q = 0; q < P; q++) {
    const uint64_t *b = ex->rblocks + (size_t)q * B;
    const size_t m = (size_t)(b[1] & CL_HEAD_COUNT);
    ex->rcount[q] = (int)b[0];
    ex->rdispl[q + 1] = ex->rdispl[q] + ex->rcount[q];
    any_flags |= (unsigned)(b[1] >> CL_HEAD_SHIFT);
    most = m > most ? m : most;
  }
  /* Every rank saw every sender's largest count: all agree on an overflow and on the new cap. */
  const int overflow = most > cap;
  if (overflow) {
    ex->ordispl[0] = 0;
    for (int q = 0; q < P; q++) {
      ex->ocount[q] = (size_t)ex->scount[q] > cap ? ex->scount[q] - (int)cap : 0;
      ex->odispl[q] = ex->ocount[q] ? ex->sdispl[q] + (int)cap : 0;
      ex->orcount[q] = (size_t)ex->rcount[q] > cap ? ex->rcount[q] - (int)cap : 0;
      ex->ordispl[q + 1] = ex->ordispl[q] + ex->orcount[q];
    }
    ex->obuf = grow(ex->obuf, &ex->ocap, (size_t)ex->ordispl[P], sizeof *ex->obuf);
    if (MPI_Alltoallv(ex->data, ex->ocount, ex->odispl, MPI_UINT64_T, ex->obuf, ex->orcount,
                      ex->ordispl, MPI_UINT64_T, ex->comm) != MPI_SUCCESS)
      cl_error_abort("MPI_Alltoallv of spikes failed");
    ex->overflows++;
  }
  const size_t nrecv = (size_t)ex->rdispl[P];
  ex->rbuf = grow(ex->rbuf, &ex->rcap, nrecv, sizeof *ex->rbuf);
  ex->tmp = grow(ex->tmp, &ex->tcap, ex->rcap, sizeof *ex->tmp);
  for (int q = 0; q < P; q++) { /* each sender's spikes into one run */
    size_t k = (size_t)ex->rcount[q] < cap ? (size_t)ex->rcount[q] : cap;
    uint64_t *run = ex->rbuf + ex->rdispl[q];
    if (k)
      memcpy(run, ex->rblocks + (size_t)q * B + 2, k * sizeof *run);
    if (overflow && ex->orcount[q])
      memcpy(run + k, ex->obuf + ex->ordispl[q], (size_t)ex->orcount[q] * sizeof *run);
  }
  ex->received += nrecv;
  uint64_t *sorted = merge_runs(ex->rbuf, ex->tmp, ex->rdispl, P);
  if (sorted != ex->rbuf) {
    ex->tmp = ex->rbuf;
    ex->rbuf = sorted;
    size_t c = ex->tcap;
    ex->tcap = ex->rcap;
    ex->rcap = c;
  }
  /* the next block capacity: grown at once, shrunk when a window of slices needed less than
   * half of it */
  if (overflow)
    ex->cap = cap_for(most);
  if (most > ex->window_max)
    ex->window_max = most;
  if (++ex->window == CL_EXCHANGE_WINDOW) {
    if (cap_for(ex->window_max) < ex->cap / 2)
      ex->cap = cap_for(ex->window_max);
    ex->window = 0;
    ex->window_max = 0;
  }
  *spikes = ex->rbuf;
  *n = nrecv;
  return any_flags;
}
