#include "condlif/ringbuf.h"

#include <stdlib.h>

#include "condlif/error.h"

int cl_ringbuf_init(cl_ringbuf *rb, size_t n, int64_t slots) {
  rb->n = n;
  rb->slots = slots;
  rb->data = cl_calloc(2 * (size_t)slots * n, sizeof *rb->data);
  CL_ALLOC_CHECK(rb->data);
  return CL_OK;
}

void cl_ringbuf_destroy(cl_ringbuf *rb) {
  free(rb->data);
  rb->data = NULL;
  rb->n = 0;
}
