#include "condlif/synapses.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "condlif/error.h"

size_t cl_synapses_bytes(const cl_synapses *syn) {
  size_t per = sizeof(uint32_t) + (syn->weight ? sizeof(float) : 0) +
               (syn->delay8    ? 1
                : syn->delay16 ? 2
                               : 0);
  size_t rows = (syn->n_gids + 1) * sizeof(uint64_t);
  if (syn->row_delay)
    rows += syn->n_gids * sizeof *syn->row_delay;
  return rows + syn->n * per;
}

void cl_synapses_destroy(cl_synapses *syn) {
  free(syn->row);
  free(syn->target);
  free(syn->weight);
  free(syn->delay8);
  free(syn->delay16);
  free(syn->row_delay);
  free(syn->n_per_projection);
  free(syn->dest);
  free(syn->scale);
  memset(syn, 0, sizeof *syn);
}

/* Delivery prefetches the synapses of the spike CL_LOOKAHEAD places ahead in its bucket, at most
 * CL_PREFETCH_SYN of them, and the first line of the spike CL_LOOKAHEAD_FAR places ahead: on two
 * ranks at N = 200 000 a row's first line was still on its way from memory four spikes later
 * (deliver 0.190-0.205 -> 0.176-0.195 s per rank; no change on one rank or at 40 000). */
#define CL_LOOKAHEAD 4
#define CL_LOOKAHEAD_FAR 16
#define CL_PREFETCH_SYN 256

/* The delay of synapse k of source gid: one of rd, d8, d16 is set (constants after inlining). */
#define CL_DELAY(gid, k) ((int64_t)(rd ? rd[gid] : d8 ? d8[k] : d16[k]))
/* The same where rd is NULL or not read: rows with one delay are delivered whole. */
#define CL_DELAY_K(k) ((int64_t)(rd ? 0 : d8 ? d8[k] : d16[k]))

/* Buckets of a queue's ring at most by default (cl_spike_queue.ring_max): longer delays share
 * buckets, and delivery passes over the spikes of a bucket that arrive in a later turn. */
#define CL_QUEUE_RING_MAX 65536

/* The queue's ring, sized on first use: with rows of one delay a bucket per arrival step of the
 * spikes in transit (they arrive within d_max + 1 steps of the enqueue), else one bucket. Returns
 * 0 when out of memory. */
static int queue_ready(const cl_synapses *syn, cl_spike_queue *q) {
  if (q->bucket)
    return 1;
  const uint64_t most = q->ring_max ? q->ring_max : CL_QUEUE_RING_MAX;
  uint64_t ring = 1;
  while (syn->row_delay && ring < (uint64_t)syn->d_max + 2 && ring < most)
    ring *= 2;
  q->bucket = calloc(ring, sizeof *q->bucket);
  q->mask = ring - 1;
  return q->bucket != NULL;
}

/* Room for n more spikes in bucket b (with `prefault`, the grown block's pages are populated at
 * once rather than faulted in one by one as spikes are queued). Returns 0 when out of memory. */
static int bucket_room(cl_spike_bucket *b, size_t n, int prefault) {
  if (b->n + n <= b->cap)
    return 1;
  const size_t cap = b->n + n + (b->n + n) / 2 + 16;
  cl_pending_spike *grown = prefault ? cl_realloc_prefault(b->s, cap * sizeof *grown)
                                     : cl_realloc(b->s, cap * sizeof *grown);
  if (!grown)
    return 0;
  b->s = grown;
  b->cap = cap;
  return 1;
}

/* Appends spike p to the bucket of its arrival; 0 when out of memory. */
static inline int push(cl_spike_queue *q, cl_pending_spike p, int prefault) {
  cl_spike_bucket *b = &q->bucket[(uint64_t)p.arrive & q->mask];
  if (b->n == b->cap && !bucket_room(b, 1, prefault))
    return 0;
  b->s[b->n++] = p;
  q->n++;
  return 1;
}

/* Enqueue prefetches the row offsets (and delay) of the spike this many places ahead: they lie
 * a few KB apart, beyond the L2 cache from N of about 10^5 (deliver, which counts the enqueue,
 * 0.209-0.221 -> 0.189-0.198 s per rank on two ranks at N = 200 000). */
#define CL_ENQUEUE_AHEAD 16

static inline __attribute__((always_inline)) void enqueue(const cl_synapses *syn, cl_spike_queue *q,
                                                          const uint64_t *spikes, size_t n,
                                                          int64_t slice_start, const uint16_t *rd,
                                                          const uint8_t *d8, const uint16_t *d16) {
  if (!queue_ready(syn, q))
    cl_error_abort("out of memory for %zu spikes in transit", q->n + n);
  for (size_t i = 0; i < n; i++) {
    if (i + CL_ENQUEUE_AHEAD < n) {
      const uint64_t ahead = spikes[i + CL_ENQUEUE_AHEAD] & CL_SPIKE_GID_MASK;
      __builtin_prefetch(syn->row + ahead);
      if (rd)
        __builtin_prefetch(rd + ahead);
    }
    uint64_t gid = spikes[i] & CL_SPIKE_GID_MASK, k = syn->row[gid], end = syn->row[gid + 1];
    if (k == end)
      continue;
    int64_t step = slice_start + (int64_t)(spikes[i] >> CL_SPIKE_STEP_SHIFT);
    if (!push(q, (cl_pending_spike){end, step, k, step + 1 + CL_DELAY(gid, k)}, 1))
      cl_error_abort("out of memory for %zu spikes in transit", q->n + 1);
  }
}

void cl_synapses_enqueue(const cl_synapses *syn, cl_spike_queue *q, const uint64_t *spikes,
                         size_t n, int64_t slice_start) {
  if (syn->row_delay)
    enqueue(syn, q, spikes, n, slice_start, syn->row_delay, NULL, NULL);
  else if (syn->delay8)
    enqueue(syn, q, spikes, n, slice_start, NULL, syn->delay8, NULL);
  else
    enqueue(syn, q, spikes, n, slice_start, NULL, NULL, syn->delay16);
}

/* Prefetches the first cache lines (at most CL_PREFETCH_SYN synapses) of the targets, weights
 * and delays of queued spike a. A source's synapses lie at a random place in the arrays, so
 * without this each spike waited for its first cache lines from memory (most of the delivery time
 * at N = 200 000). */
static inline __attribute__((always_inline)) void
prefetch_row(const cl_pending_spike *a, const uint32_t *target, const float *weight,
             const uint16_t *rd, const uint8_t *d8, const uint16_t *d16) {
  uint64_t from = a->next, to = a->end;
  to = to - from > CL_PREFETCH_SYN ? from + CL_PREFETCH_SYN : to;
  for (uint64_t k = from; k < to; k += 16) {
    __builtin_prefetch(target + k);
    if (weight)
      __builtin_prefetch(weight + k);
  }
  if (!rd) {
    for (uint64_t k = from; k < to; k += 64)
      __builtin_prefetch(d8 ? (const void *)(d8 + k) : (const void *)(d16 + k));
    __builtin_prefetch(d8 ? (const void *)(d8 + to - 1) : (const void *)(d16 + to - 1));
  }
}

int cl_synapses_gather_default(uint64_t n_inputs) {
  const long l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
  const double cache = l2 > 0 ? (double)l2 : 1048576.0;
  return 2.0 * sizeof(double) * (double)n_inputs > cache;
}

/* Synapses gathered per batch (cl_synapses.gather): their target words (and weights) stay in
 * the L1 cache between the two loops. */
#define CL_GATHER 2048

/* Adds the gathered synapses in order: one loop, no branch between rows. */
static inline __attribute__((always_inline)) void
add_gathered(const uint32_t *words, const float *wts, size_t n, unsigned shift, uint32_t mask,
             double *const *base, const double *ew, const int weighted) {
  for (size_t j = 0; j < n; j++) {
    const uint32_t t = words[j], e = t >> shift;
    if (weighted)
      base[e][t & mask] += ew[e] * (double)wts[j];
    else
      base[e][t & mask] += ew[e];
  }
}

/* Delivers the synapses arriving at `step`. Entry e of a target word names the array base[e]
 * (x_ex or x_in) and the scale of its targets (cl_scale): with a table of weights (weight NULL)
 * it adds ew[e] = mul[e] w[e], else mul[e] weight[k], where mul[e] = e exp(j h/tau) h/(2 tau)
 * is the scale's factor at this step. Both add the same double for the same weight.
 * With `gather` the arriving synapses' target words (and weights) are first copied, row after
 * row, into a buffer, then added in one loop: the adds are the same, in the same order. Where
 * the x arrays are larger than the L2 cache each add waits on a miss, and the branches that end
 * a row or a run of one entry, mispredicted, discarded the misses in flight behind them; in the
 * one loop they overlap across rows (COBA-alpha at 200 000 neurons: deliver -10 % on one rank,
 * -15 % per rank on two). Where the x arrays are cached the copy costs more than it saves, and
 * so it does where rows have several delays (each arrival a run of a few synapses): `gather`
 * is only set with rd (doc/design.md, "Gathered delivery"). */
static inline __attribute__((always_inline)) void deliver(const cl_synapses *syn, cl_spike_queue *q,
                                                          double *const x[2], int64_t step,
                                                          const float *weight, const uint16_t *rd,
                                                          const uint8_t *d8, const uint16_t *d16,
                                                          const int gather) {
  const uint32_t *target = syn->target;
  const unsigned shift = syn->table.shift;
  const uint32_t mask = (UINT32_C(1) << shift) - 1;
  double ew[CL_SYN_TABLE_MAX];
  double *base[CL_SYN_TABLE_MAX];
  for (unsigned e = 0; e < syn->table.n; e++) {
    const double mul = cl_scale_w(&syn->scale[syn->table.scale_of[e]], step);
    ew[e] = weight ? mul : mul * (double)syn->table.w[e];
    base[e] = x[syn->table.receptor[e]];
  }
  /* the bucket of this step's arrivals: with rows of one delay, every spike in it arrives now
   * unless the ring is shorter than the delays (cl_spike_queue.ring_max) */
  cl_spike_bucket *const b = &q->bucket[(uint64_t)step & q->mask];
  /* the spikes the loop's look-ahead does not reach */
  for (size_t i = 0; i < CL_LOOKAHEAD && i < b->n; i++)
    if (b->s[i].arrive == step)
      prefetch_row(&b->s[i], target, weight, rd, d8, d16);
  uint32_t words[CL_GATHER];
  float wts[CL_GATHER];
  size_t n_gathered = 0;
  size_t kept = 0;
  for (size_t i = 0; i < b->n; i++) {
    if (i + CL_LOOKAHEAD < b->n && b->s[i + CL_LOOKAHEAD].arrive == step)
      prefetch_row(&b->s[i + CL_LOOKAHEAD], target, weight, rd, d8, d16);
    if (i + CL_LOOKAHEAD_FAR < b->n) { /* (its first line: no test of its arrival) */
      __builtin_prefetch(target + b->s[i + CL_LOOKAHEAD_FAR].next);
      if (weight)
        __builtin_prefetch(weight + b->s[i + CL_LOOKAHEAD_FAR].next);
    }
    cl_pending_spike p = b->s[i];
    if (p.arrive == step) {
      const uint64_t end = p.end;
      const int64_t d = step - p.step - 1;
      uint64_t k = p.next;
      if (gather && rd) { /* the row, copied (it arrives whole) */
        while (k < end) {
          const size_t m = end - k < CL_GATHER - n_gathered ? end - k : CL_GATHER - n_gathered;
          memcpy(words + n_gathered, target + k, m * sizeof *words);
          if (weight)
            memcpy(wts + n_gathered, weight + k, m * sizeof *wts);
          n_gathered += m;
          k += m;
          if (n_gathered == CL_GATHER) {
            add_gathered(words, wts, n_gathered, shift, mask, base, ew, weight != NULL);
            n_gathered = 0;
          }
        }
      } else {
        do { /* in runs of one entry (a projection's synapses lie together in a row) */
          const uint32_t e = target[k] >> shift;
          double *const xr = base[e]; /* x_ex or x_in */
          const double we = ew[e];
          do {
            const uint32_t t = target[k];
            if (t >> shift != e)
              break;
            if (weight)
              xr[t & mask] += we * (double)weight[k];
            else
              xr[t & mask] += we;
          } while (++k < end && (rd || CL_DELAY_K(k) == d));
        } while (k < end && (rd || CL_DELAY_K(k) == d));
      }
      if (k == end)
        continue; /* every synapse delivered */
      p.next = k;
      p.arrive = p.step + 1 + CL_DELAY_K(k); /* per-synapse delays (a row of one delay ends) */
    }
    b->s[kept++] = p;
  }
  q->n -= b->n - kept;
  b->n = kept;
  if (gather)
    add_gathered(words, wts, n_gathered, shift, mask, base, ew, weight != NULL);
}

void cl_synapses_deliver(const cl_synapses *syn, cl_spike_queue *q, double *x_ex, double *x_in,
                         int64_t step) {
  if (!q->n)
    return;
  double *const rows[2] = {x_ex, x_in};
  const float *w = syn->weight;
  const uint16_t *rd = syn->row_delay;
  const uint8_t *d8 = syn->delay8;
  const uint16_t *d16 = syn->delay16;
  if (syn->gather && rd) { /* (rows of several delays: see deliver) */
    if (w)
      deliver(syn, q, rows, step, w, rd, NULL, NULL, 1);
    else
      deliver(syn, q, rows, step, NULL, rd, NULL, NULL, 1);
  } else if (w && rd)
    deliver(syn, q, rows, step, w, rd, NULL, NULL, 0);
  else if (w && d8)
    deliver(syn, q, rows, step, w, NULL, d8, NULL, 0);
  else if (w)
    deliver(syn, q, rows, step, w, NULL, NULL, d16, 0);
  else if (rd)
    deliver(syn, q, rows, step, NULL, rd, NULL, NULL, 0);
  else if (d8)
    deliver(syn, q, rows, step, NULL, NULL, d8, NULL, 0);
  else
    deliver(syn, q, rows, step, NULL, NULL, NULL, d16, 0);
}

/* The source of pending spike p: the g with row[g] < end <= row[g + 1] (end = row[g + 1], and
 * the row is not empty). */
static uint64_t pending_gid(const cl_synapses *syn, const cl_pending_spike *p) {
  uint64_t lo = 0, hi = syn->n_gids - 1;
  while (lo < hi) {
    uint64_t mid = lo + (hi - lo + 1) / 2;
    if (syn->row[mid] < p->end)
      lo = mid;
    else
      hi = mid - 1;
  }
  return lo;
}

void cl_synapses_queued(const cl_synapses *syn, const cl_spike_queue *q, uint64_t *gid,
                        int64_t *step) {
  size_t i = 0;
  for (uint64_t r = 0; q->bucket && r <= q->mask; r++)
    for (size_t j = 0; j < q->bucket[r].n; j++, i++) {
      gid[i] = pending_gid(syn, &q->bucket[r].s[j]);
      step[i] = q->bucket[r].s[j].step;
    }
}

int cl_synapses_enqueue_from(const cl_synapses *syn, cl_spike_queue *q, const uint64_t *gid,
                             const int64_t *step, size_t n, int64_t now) {
  if (!queue_ready(syn, q))
    return CL_ERROR(CL_ERR_MEM, "out of memory for the spikes in transit");
  for (size_t i = 0; i < n; i++) {
    uint64_t g = gid[i], k = syn->row[g], end = syn->row[g + 1];
    /* a source's synapses are sorted by delay: skip those that arrived before now */
    while (k < end && step[i] + 1 + cl_synapses_delay(syn, g, k) < now)
      k++;
    if (k < end &&
        !push(q, (cl_pending_spike){end, step[i], k, step[i] + 1 + cl_synapses_delay(syn, g, k)},
              0))
      return CL_ERROR(CL_ERR_MEM, "out of memory for %zu spikes in transit", q->n + 1);
  }
  return CL_OK;
}

void cl_spike_queue_destroy(cl_spike_queue *q) {
  for (uint64_t r = 0; q->bucket && r <= q->mask; r++)
    free(q->bucket[r].s);
  free(q->bucket);
  memset(q, 0, sizeof *q);
}
