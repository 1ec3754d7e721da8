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

void cl_synapses_deliver(const cl_synapses *syn, cl_ringbuf *rb, const uint64_t *spikes, size_t n,
                         int64_t slice_start) {
  const int64_t S = rb->slots;
  const size_t nl = rb->n;
  double *const data = rb->data;
  for (size_t i = 0; i < n; i++) {
    uint64_t gid = spikes[i] & CL_SPIKE_GID_MASK;
    int64_t base = (slice_start + (int64_t)(spikes[i] >> CL_SPIKE_STEP_SHIFT) + 1) % S;
    const uint64_t begin = syn->row[gid], end = syn->row[gid + 1];
    for (uint64_t k = begin; k < end; k++) {
      uint32_t t = syn->target[k];
      int64_t slot = base + (syn->delay8 ? syn->delay8[k] : syn->delay16[k]);
      slot -= slot >= S ? S : 0;
      size_t rec = t >> 31;
      data[(rec * (size_t)S + (size_t)slot) * nl + (t & CL_SYN_TARGET_MASK)] += syn->weight[k];
    }
  }
}
