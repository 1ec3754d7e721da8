#include "condlif/exchange.h"

#include <stdlib.h>
#include <string.h>

#include "condlif/error.h"

int cl_exchange_init(cl_exchange *ex, MPI_Comm comm) {
  memset(ex, 0, sizeof *ex);
  ex->comm = comm;
  MPI_Comm_rank(comm, &ex->rank);
  MPI_Comm_size(comm, &ex->size);
  size_t P = (size_t)ex->size;
  ex->scount = cl_calloc(P, sizeof(int));
  ex->rcount = cl_calloc(P, sizeof(int));
  ex->shead = cl_calloc(2 * P, sizeof(int));
  ex->rhead = cl_calloc(2 * P, sizeof(int));
  ex->sdispl = cl_calloc(P + 1, sizeof(int));
  ex->rdispl = cl_calloc(P + 1, sizeof(int));
  if (!ex->scount || !ex->rcount || !ex->shead || !ex->rhead || !ex->sdispl || !ex->rdispl) {
    cl_exchange_destroy(ex);
    return CL_ERR_MEM;
  }
  return CL_OK;
}

void cl_exchange_destroy(cl_exchange *ex) {
  free(ex->local);
  free(ex->scount);
  free(ex->rcount);
  free(ex->shead);
  free(ex->rhead);
  free(ex->sdispl);
  free(ex->rdispl);
  free(ex->sbuf);
  free(ex->rbuf);
  free(ex->tmp);
  free(ex->masks);
  memset(ex, 0, sizeof *ex);
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
  if (ex->n_local == ex->cap_local)
    ex->local = grow(ex->local, &ex->cap_local, ex->n_local + 1, sizeof *ex->local);
  ex->local[ex->n_local++] = (uint64_t)step_in_slice << CL_SPIKE_STEP_SHIFT | gid;
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

int cl_exchange_run(cl_exchange *ex, const cl_synapses *syn, int flag, const uint64_t **spikes,
                    size_t *n) {
  const int P = ex->size, words = syn->words;
  if (P == 1) {
    /* One rank: the local spikes are the ones to deliver, already in (step, gid) order (the
     * enqueue skips sources without targets). The buffers swap instead of being copied. */
    uint64_t *t = ex->rbuf;
    size_t cap = ex->rcap;
    ex->rbuf = ex->local;
    ex->rcap = ex->cap_local;
    ex->local = t;
    ex->cap_local = cap;
    *spikes = ex->rbuf;
    *n = ex->n_local;
    ex->sent += ex->n_local;
    ex->received += ex->n_local;
    ex->n_local = 0;
    return flag != 0;
  }
  memset(ex->scount, 0, (size_t)P * sizeof(int));
  size_t total = 0;
  /* The destination sets of the spiking sources are random reads: prefetched CL_DEST_AHEAD
   * spikes ahead, and with at most 64 ranks kept for the fill loop below. */
  const int one_word = words == 1;
  if (one_word)
    ex->masks = grow(ex->masks, &ex->mask_cap, ex->n_local, sizeof *ex->masks);
  uint64_t every = ~UINT64_C(0); /* (one word) the ranks that every local spike goes to */
  for (size_t i = 0; i < ex->n_local; i++) {
    if (i + CL_DEST_AHEAD < ex->n_local)
      __builtin_prefetch(syn->dest +
                         cl_gid_local(ex->local[i + CL_DEST_AHEAD] & CL_SPIKE_GID_MASK, P) *
                             (uint64_t)words);
    const uint64_t *bits =
        syn->dest + cl_gid_local(ex->local[i] & CL_SPIKE_GID_MASK, P) * (uint64_t)words;
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
  if (total > (size_t)INT32_MAX)
    cl_error_abort("more than 2^31 spike messages in one slice");
  /* When every spike goes to every rank (small P: a source's targets cover all ranks), each
   * rank is sent the whole local list: one region, displacement 0 for all (MPI allows send
   * regions to overlap), no copies. */
  const uint64_t all_ranks = P == 64 ? ~UINT64_C(0) : (UINT64_C(1) << P) - 1;
  const int to_all = one_word && ex->n_local > 0 && (every & all_ranks) == all_ranks;
  const uint64_t *send = ex->local;
  if (to_all) {
    for (int q = 0; q <= P; q++)
      ex->sdispl[q] = 0;
  } else {
    for (int q = 0; q < P; q++)
      ex->sdispl[q + 1] = ex->sdispl[q] + ex->scount[q];
    ex->sbuf = grow(ex->sbuf, &ex->scap, total, sizeof *ex->sbuf);
    int *pos = ex->rdispl; /* borrowed as fill cursors until the counts come back */
    memcpy(pos, ex->sdispl, (size_t)P * sizeof(int));
    for (size_t i = 0; i < ex->n_local; i++) {
      const uint64_t *bits =
          one_word
              ? &ex->masks[i]
              : syn->dest + cl_gid_local(ex->local[i] & CL_SPIKE_GID_MASK, P) * (uint64_t)words;
      for (int w = 0; w < words; w++)
        for (uint64_t m = bits[w]; m; m &= m - 1)
          ex->sbuf[pos[w * 64 + __builtin_ctzll(m)]++] = ex->local[i];
    }
    send = ex->sbuf;
  }
  ex->sent += total;

  /* Each rank sends every other rank its count and its flag: one small Alltoall. */
  for (int q = 0; q < P; q++) {
    ex->shead[2 * q] = ex->scount[q];
    ex->shead[2 * q + 1] = flag != 0;
  }
  if (MPI_Alltoall(ex->shead, 2, MPI_INT, ex->rhead, 2, MPI_INT, ex->comm) != MPI_SUCCESS)
    cl_error_abort("MPI_Alltoall of spike counts failed");
  int any_flag = 0;
  for (int q = 0; q < P; q++) {
    ex->rcount[q] = ex->rhead[2 * q];
    any_flag |= ex->rhead[2 * q + 1];
  }
  ex->rdispl[0] = 0;
  for (int q = 0; q < P; q++)
    ex->rdispl[q + 1] = ex->rdispl[q] + ex->rcount[q];
  size_t nrecv = (size_t)ex->rdispl[P];
  size_t tcap = ex->rcap;
  ex->rbuf = grow(ex->rbuf, &ex->rcap, nrecv, sizeof *ex->rbuf);
  ex->tmp = grow(ex->tmp, &tcap, ex->rcap, sizeof *ex->tmp);
  if (MPI_Alltoallv(send, ex->scount, ex->sdispl, MPI_UINT64_T, ex->rbuf, ex->rcount, ex->rdispl,
                    MPI_UINT64_T, ex->comm) != MPI_SUCCESS)
    cl_error_abort("MPI_Alltoallv of spikes failed");
  ex->n_local = 0; /* (sent from ex->local when to_all) */
  ex->received += nrecv;
  uint64_t *sorted = merge_runs(ex->rbuf, ex->tmp, ex->rdispl, P);
  if (sorted != ex->rbuf) {
    ex->tmp = ex->rbuf;
    ex->rbuf = sorted;
  }
  *spikes = ex->rbuf;
  *n = nrecv;
  return any_flag;
}
