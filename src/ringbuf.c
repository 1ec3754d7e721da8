#include "condlif/ringbuf.h"

#include <stdlib.h>
#include <string.h>

#include "condlif/error.h"

int cl_ringbuf_init(cl_ringbuf *rb, size_t n, int64_t slots) {
  rb->n = n;
  rb->slots = slots;
  size_t bytes = (2 * (size_t)slots * n * sizeof *rb->data + 63) / 64 * 64;
  rb->data = aligned_alloc(64, bytes ? bytes : 64);
  if (!rb->data)
    return CL_ERROR(CL_ERR_MEM, "out of memory allocating %zu bytes of input rows", bytes);
  memset(rb->data, 0, bytes);
  return CL_OK;
}

void cl_ringbuf_destroy(cl_ringbuf *rb) {
  free(rb->data);
  rb->data = NULL;
  rb->n = 0;
}
