#include "condlif/error.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static char message_[4096];
static char where_[2048];
static int code_;

int cl_error_set(int code, const char *file, int line, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(message_, sizeof message_, fmt, ap);
  va_end(ap);
  snprintf(where_, sizeof where_, "  raised at %s:%d\n", file, line);
  code_ = code;
  return code;
}

void cl_error_trace(const char *file, int line, const char *func) {
  size_t used = strlen(where_);
  if (used + 1 < sizeof where_)
    snprintf(where_ + used, sizeof where_ - used, "  from %s (%s:%d)\n", func, file, line);
}

const char *cl_error_message(void) {
  return message_;
}
const char *cl_error_where(void) {
  return where_;
}

void cl_error_clear(void) {
  message_[0] = '\0';
  where_[0] = '\0';
  code_ = CL_OK;
}

int cl_error_exit_code(int code) {
  if (code == CL_OK)
    return 0;
  return code == CL_ERR_USER ? 2 : code == CL_ERR_STOPPED ? 3 : 1;
}

int cl_error_agree(MPI_Comm comm, int status) {
  int agreed = status;
  MPI_Allreduce(&status, &agreed, 1, MPI_INT, MPI_MAX, comm);
  return agreed;
}

void cl_error_report(MPI_Comm comm, int status) {
  int rank = 0, size = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  if (status == CL_OK)
    return;
  if (status == CL_ERR_USER) {
    if (rank == 0)
      fprintf(stderr, "condlif: error: %s\n", message_);
  } else if (status == CL_ERR_STOPPED) {
    if (rank == 0)
      fprintf(stderr, "condlif: %s\n", message_);
  } else if (message_[0]) {
    if (size > 1)
      fprintf(stderr, "condlif: rank %d: error: %s\n", rank, message_);
    else
      fprintf(stderr, "condlif: error: %s\n", message_);
    if (getenv("CONDLIF_DEBUG"))
      fputs(where_, stderr);
  }
  fflush(stderr);
}

_Noreturn void cl_error_abort(const char *fmt, ...) {
  int rank = 0, init = 0;
  MPI_Initialized(&init);
  if (init)
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  char buf[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  fprintf(stderr, "condlif: rank %d: fatal: %s\n", rank, buf);
  fflush(stderr);
  if (init)
    MPI_Abort(MPI_COMM_WORLD, 1);
  abort();
}

void *cl_malloc_at(size_t n, const char *file, int line) {
  void *p = malloc(n ? n : 1);
  if (!p)
    cl_error_set(CL_ERR_MEM, file, line, "out of memory allocating %zu bytes", n);
  return p;
}

void *cl_malloc_large_at(size_t n, const char *file, int line) {
  const size_t huge = (size_t)2 << 20;
  if (n < 4 * huge)
    return cl_malloc_at(n, file, line);
  size_t bytes = (n + huge - 1) / huge * huge;
  void *p = aligned_alloc(huge, bytes);
  if (!p) {
    cl_error_set(CL_ERR_MEM, file, line, "out of memory allocating %zu bytes", n);
    return NULL;
  }
#ifdef MADV_HUGEPAGE
  madvise(p, bytes, MADV_HUGEPAGE); /* advice only: failure changes nothing */
#endif
  return p;
}

void cl_prefault(void *p, size_t n) {
#ifdef MADV_POPULATE_WRITE
  static uintptr_t page;
  if (!page) {
    long sz = sysconf(_SC_PAGESIZE);
    page = sz > 0 ? (uintptr_t)sz : 4096;
  }
  uintptr_t a = ((uintptr_t)p + page - 1) & ~(page - 1), b = ((uintptr_t)p + n) & ~(page - 1);
  if (b > a)
    madvise((void *)a, b - a, MADV_POPULATE_WRITE); /* advice only: failure changes nothing */
#else
  (void)p;
  (void)n;
#endif
}

void cl_touch(void *p, size_t n) {
  cl_prefault(p, n);
  memset(p, 0, n);
}

void *cl_realloc_prefault_at(void *p, size_t n, const char *file, int line) {
  void *q = cl_realloc_at(p, n, file, line);
  if (q)
    cl_prefault(q, n);
  return q;
}

void *cl_calloc_at(size_t count, size_t size, const char *file, int line) {
  void *p = calloc(count ? count : 1, size ? size : 1);
  if (!p)
    cl_error_set(CL_ERR_MEM, file, line, "out of memory allocating %zu x %zu bytes", count, size);
  return p;
}

void *cl_realloc_at(void *p, size_t n, const char *file, int line) {
  void *q = realloc(p, n ? n : 1);
  if (!q)
    cl_error_set(CL_ERR_MEM, file, line, "out of memory reallocating %zu bytes", n);
  return q;
}
