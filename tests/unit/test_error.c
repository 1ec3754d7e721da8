/* error: messages, traces, exit codes and collective agreement (one rank). */
#include "condlif/error.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"

static int inner(void) {
  return CL_ERROR(CL_ERR_USER, "net.cfg:%d: %s: bad", 12, "sim.dt");
}
static int outer(void) {
  CL_CALL(inner());
  return CL_OK;
}

/* Pages of [p, p + n) not resident in memory (mincore). */
static size_t missing_pages(void *p, size_t n) {
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  uintptr_t a = ((uintptr_t)p + page - 1) & ~(uintptr_t)(page - 1);
  uintptr_t b = ((uintptr_t)p + n) & ~(uintptr_t)(page - 1);
  if (b <= a)
    return 0;
  size_t pages = (b - a) / page, missing = 0;
  unsigned char *vec = malloc(pages);
  if (!vec || mincore((void *)a, b - a, vec) != 0) {
    free(vec);
    return SIZE_MAX;
  }
  for (size_t i = 0; i < pages; i++)
    missing += !(vec[i] & 1);
  free(vec);
  return missing;
}

/* cl_realloc_prefault keeps the contents and backs the whole block with memory; cl_touch
 * zeroes. Residency is required only where the kernel populates (MADV_POPULATE_WRITE). */
static void prefault_checks(void) {
  size_t page = (size_t)sysconf(_SC_PAGESIZE), n = 64 * page;
  int populates = 0;
#ifdef MADV_POPULATE_WRITE
  void *probe = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  populates = probe != MAP_FAILED && madvise(probe, page, MADV_POPULATE_WRITE) == 0;
  if (probe != MAP_FAILED)
    munmap(probe, page);
#endif
  unsigned char *p = cl_realloc_prefault(NULL, 100);
  CHECK(p != NULL);
  for (int i = 0; i < 100; i++)
    p[i] = (unsigned char)i;
  /* large enough for its own mapping, whose pages nothing has written yet */
  p = cl_realloc_prefault(p, n);
  CHECK(p != NULL);
  int same = 1;
  for (int i = 0; i < 100; i++)
    same &= p[i] == (unsigned char)i;
  CHECK(same);
  if (populates)
    CHECK(missing_pages(p, n) == 0);
  free(p);
  unsigned char *q = malloc(n);
  CHECK(q != NULL);
  memset(q, 7, 100);
  cl_touch(q, n);
  size_t nonzero = 0;
  for (size_t i = 0; i < n; i++)
    nonzero += q[i] != 0;
  CHECK(nonzero == 0);
  CHECK(missing_pages(q, n) == 0);
  free(q);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  CHECK(outer() == CL_ERR_USER);
  CHECK(strcmp(cl_error_message(), "net.cfg:12: sim.dt: bad") == 0);
  CHECK(strstr(cl_error_where(), "from outer") != NULL);
  CHECK(cl_error_exit_code(CL_OK) == 0);
  CHECK(cl_error_exit_code(CL_ERR_USER) == 2);
  CHECK(cl_error_exit_code(CL_ERR_IO) == 1);
  CHECK(cl_error_agree(MPI_COMM_WORLD, CL_OK) == CL_OK);
  CHECK(cl_error_agree(MPI_COMM_WORLD, CL_ERR_IO) == CL_ERR_IO);
  cl_error_clear();
  CHECK(cl_error_message()[0] == '\0');
  prefault_checks();
  MPI_Finalize();
  if (failures)
    fprintf(stderr, "test_error: %d check(s) failed\n", failures);
  return failures != 0;
}
