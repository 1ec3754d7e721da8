#include "condlif/synapses.h"

#include <stdlib.h>
#include <string.h>

#include "condlif/error.h"
#include "condlif/ringbuf.h"

size_t cl_synapses_bytes(const cl_synapses *syn) {
  size_t per = sizeof(uint32_t) + sizeof(float) + (syn->delay8 ? 1 : 2);
  return (syn->n_gids + 1) * sizeof(uint64_t) + syn->n * per;
}

void cl_synapses_destroy(cl_synapses *syn) {
  free(syn->row);
  free(syn->target);
  free(syn->weight);
  free(syn->delay8);
  free(syn->delay16);
  free(syn->n_per_projection);
  free(syn->dest);
  memset(syn, 0, sizeof *syn);
}

/* Index in the ring buffers of a synapse to target t (receptor in the top bit) whose input
 * arrives at slot base + delay. */
static inline size_t rb_index(uint32_t t, int64_t base, int64_t delay, int64_t S, size_t nl) {
  int64_t slot = base + delay;
  slot -= slot >= S ? S : 0;
  return ((size_t)(t >> 31) * (size_t)S + (size_t)slot) * nl + (t & CL_SYN_TARGET_MASK);
}

/* Ring-buffer entries per block of the cache-blocked delivery (16 KiB of floats: L1). */
#define CL_BLOCK_SHIFT 12
/* Below these sizes the ring buffers stay in cache and a direct pass is fastest. */
#define CL_BLOCKED_MIN_EVENTS 4096
#define CL_BLOCKED_MIN_ENTRIES ((size_t)1 << 18)

/* Calls emit(index, weight) for every synapse of every spike, in delivery order: spikes in
 * (step, gid) order, each source's synapses in stored order. d8 or d16 is NULL (a constant
 * after inlining). */
#define CL_FOR_EACH_EVENT(emit)                                                                    \
  for (size_t i = 0; i < n; i++) {                                                                 \
    uint64_t gid = spikes[i] & CL_SPIKE_GID_MASK;                                                  \
    int64_t base = (slice_start + (int64_t)(spikes[i] >> CL_SPIKE_STEP_SHIFT) + 1) % S;            \
    const uint64_t end = syn->row[gid + 1];                                                        \
    for (uint64_t k = syn->row[gid]; k < end; k++)                                                 \
      emit(rb_index(syn->target[k], base, d8 ? d8[k] : d16[k], S, nl), syn->weight[k]);            \
  }

static inline __attribute__((always_inline)) void
deliver(const cl_synapses *syn, cl_deliver_scratch *sc, float *data, int64_t S, size_t nl,
        const uint64_t *spikes, size_t n, int64_t slice_start, const uint8_t *d8,
        const uint16_t *d16) {
  size_t events = 0;
  for (size_t i = 0; i < n; i++) {
    uint64_t gid = spikes[i] & CL_SPIKE_GID_MASK;
    events += syn->row[gid + 1] - syn->row[gid];
  }
  size_t entries = 2 * (size_t)S * nl;
  if (events < CL_BLOCKED_MIN_EVENTS || entries < CL_BLOCKED_MIN_ENTRIES) {
#define CL_ADD(idx, w) data[idx] += (w)
    CL_FOR_EACH_EVENT(CL_ADD)
#undef CL_ADD
    return;
  }
  /* Cache-blocked: the targets of a source are spread over the whole rank, so adding in
   * delivery order misses the cache on nearly every event. Instead list the events, sort
   * them stably by block of ring-buffer entries (a counting sort keeps each entry's events in
   * delivery order, so every sum is formed exactly as before) and add block by block. */
  size_t nb = (entries >> CL_BLOCK_SHIFT) + 1;
  if (events > sc->cap) {
    size_t cap = events + events / 2;
    free(sc->idx);
    free(sc->w);
    free(sc->sorted_idx);
    free(sc->sorted_w);
    sc->idx = malloc(cap * sizeof *sc->idx);
    sc->w = malloc(cap * sizeof *sc->w);
    sc->sorted_idx = malloc(cap * sizeof *sc->sorted_idx);
    sc->sorted_w = malloc(cap * sizeof *sc->sorted_w);
    if (!sc->idx || !sc->w || !sc->sorted_idx || !sc->sorted_w)
      cl_error_abort("out of memory for %zu synaptic events", cap);
    sc->cap = cap;
  }
  if (nb + 1 > sc->n_counts) {
    free(sc->counts);
    sc->counts = malloc((nb + 1) * sizeof *sc->counts);
    if (!sc->counts)
      cl_error_abort("out of memory for %zu delivery blocks", nb + 1);
    sc->n_counts = nb + 1;
  }
  size_t *counts = sc->counts;
  memset(counts, 0, (nb + 1) * sizeof *counts);
  size_t e = 0;
#define CL_LIST(idx_, w_)                                                                          \
  do {                                                                                             \
    size_t x_ = (idx_);                                                                            \
    sc->idx[e] = x_;                                                                               \
    sc->w[e++] = (w_);                                                                             \
    counts[(x_ >> CL_BLOCK_SHIFT) + 1]++;                                                          \
  } while (0)
  CL_FOR_EACH_EVENT(CL_LIST)
#undef CL_LIST
  for (size_t b = 1; b <= nb; b++)
    counts[b] += counts[b - 1];
  for (size_t j = 0; j < events; j++) {
    size_t pos = counts[sc->idx[j] >> CL_BLOCK_SHIFT]++;
    sc->sorted_idx[pos] = sc->idx[j];
    sc->sorted_w[pos] = sc->w[j];
  }
  for (size_t j = 0; j < events; j++)
    data[sc->sorted_idx[j]] += sc->sorted_w[j];
}

void cl_synapses_deliver(const cl_synapses *syn, cl_deliver_scratch *sc, cl_ringbuf *rb,
                         const uint64_t *spikes, size_t n, int64_t slice_start) {
  if (syn->delay8)
    deliver(syn, sc, rb->data, rb->slots, rb->n, spikes, n, slice_start, syn->delay8, NULL);
  else
    deliver(syn, sc, rb->data, rb->slots, rb->n, spikes, n, slice_start, NULL, syn->delay16);
}

void cl_deliver_scratch_destroy(cl_deliver_scratch *sc) {
  free(sc->idx);
  free(sc->w);
  free(sc->sorted_idx);
  free(sc->sorted_w);
  free(sc->counts);
  memset(sc, 0, sizeof *sc);
}
