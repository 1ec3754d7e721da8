/* Input rows of incoming synaptic input: per local neuron and receptor, `slots` rows, slot-major
 * so one step's row of a population is contiguous. A slot holds the sum of peak weights (nS)
 * arriving at one grid point; the neuron step reads a row and clears it. The simulator uses one
 * slot (each step's arrivals are added just before the step: doc/design.md, "Time loop"); more
 * slots make a ring buffer indexed by step. Sums are float, like the weights they add
 * (synapses.h): half the memory traffic of double rows; they are formed in the same order on
 * any number of ranks, so results stay bit-identical. */
#ifndef CONDLIF_RINGBUF_H
#define CONDLIF_RINGBUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
  size_t n;      /* entries per row: the rank's input indices (a multiple of 8) */
  int64_t slots; /* slots per receptor */
  float *data;   /* [2][slots][n]: receptor, slot, neuron */
} cl_ringbuf;

/* Allocates zeroed buffers. Not collective. */
int cl_ringbuf_init(cl_ringbuf *rb, size_t n, int64_t slots);
void cl_ringbuf_destroy(cl_ringbuf *rb);

/* Row of receptor (0 ex, 1 in) for the grid point of step (any step index >= 0). */
static inline float *cl_ringbuf_row(const cl_ringbuf *rb, int receptor, int64_t step) {
  return rb->data + ((size_t)receptor * (size_t)rb->slots + (size_t)(step % rb->slots)) * rb->n;
}

#endif
