#include "condlif/synapses.h"

#include <stdlib.h>
#include <string.h>

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

/* Synapses ahead whose ring-buffer entry is prefetched: the targets of one source are spread
 * over the whole rank, so nearly every add would be a cache miss without it. */
#define CL_DELIVER_PREFETCH 16

/* The delivery loop for one delay width (d8 or d16 is NULL: a constant after inlining). */
static inline __attribute__((always_inline)) void
deliver(const cl_synapses *syn, double *data, int64_t S, size_t nl, const uint64_t *spikes,
        size_t n, int64_t slice_start, const uint8_t *d8, const uint16_t *d16) {
  const uint32_t *target = syn->target;
  const float *weight = syn->weight;
  for (size_t i = 0; i < n; i++) {
    uint64_t gid = spikes[i] & CL_SPIKE_GID_MASK;
    int64_t base = (slice_start + (int64_t)(spikes[i] >> CL_SPIKE_STEP_SHIFT) + 1) % S;
    const uint64_t begin = syn->row[gid], end = syn->row[gid + 1];
    const uint64_t warm = begin + CL_DELIVER_PREFETCH < end ? begin + CL_DELIVER_PREFETCH : end;
    for (uint64_t k = begin; k < warm; k++)
      __builtin_prefetch(data + rb_index(target[k], base, d8 ? d8[k] : d16[k], S, nl), 1, 3);
    for (uint64_t k = begin; k < end; k++) {
      uint64_t a = k + CL_DELIVER_PREFETCH;
      if (a < end)
        __builtin_prefetch(data + rb_index(target[a], base, d8 ? d8[a] : d16[a], S, nl), 1, 3);
      data[rb_index(target[k], base, d8 ? d8[k] : d16[k], S, nl)] += weight[k];
    }
  }
}

void cl_synapses_deliver(const cl_synapses *syn, cl_ringbuf *rb, const uint64_t *spikes, size_t n,
                         int64_t slice_start) {
  if (syn->delay8)
    deliver(syn, rb->data, rb->slots, rb->n, spikes, n, slice_start, syn->delay8, NULL);
  else
    deliver(syn, rb->data, rb->slots, rb->n, spikes, n, slice_start, NULL, syn->delay16);
}
