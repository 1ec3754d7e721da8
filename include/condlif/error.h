/* Status codes, error messages that carry file:line, and collective agreement on failure.
 *
 * A function that can fail returns a cl_status (CL_OK == 0). The first failure records a
 * message with CL_ERROR(); callers pass it up with CL_CALL(), which appends the caller's
 * file:line to a short trace. User errors (bad config, bad arguments) are always checked;
 * assert() is only for internal invariants. */
#ifndef CONDLIF_ERROR_H
#define CONDLIF_ERROR_H

#include <mpi.h>
#include <stddef.h>

typedef enum {
  CL_OK = 0,
  CL_ERR_USER = 1,     /* invalid configuration or command line (exit status 2) */
  CL_ERR_IO = 2,       /* a file could not be read or written */
  CL_ERR_MEM = 3,      /* out of memory */
  CL_ERR_MPI = 4,      /* an MPI call failed */
  CL_ERR_HDF5 = 5,     /* an HDF5 call failed */
  CL_ERR_INTERNAL = 6, /* a bug */
  CL_ERR_STOPPED = 7,  /* a signal stopped the run before t_stop; its output is valid up to the
                          time reached (exit status 3) */
} cl_status;

/* Records an error message (printf-style) with its origin; returns code. Not collective. */
int cl_error_set(int code, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Appends "  from func (file:line)" to the trace of the current error. */
void cl_error_trace(const char *file, int line, const char *func);
/* The current error message (empty string when none); owned by the module. */
const char *cl_error_message(void);
/* The trace of call sites the current error passed through (empty when none). */
const char *cl_error_where(void);
/* Forgets the current error. */
void cl_error_clear(void);
/* Exit status for a status code: 0 for CL_OK, 2 for user errors, 3 for a run stopped by a
 * signal, 1 otherwise. */
int cl_error_exit_code(int code);

/* Collective over comm: returns the largest status over all ranks (CL_OK when none failed).
 * Every rank must call it; use it after any step that can fail on some ranks only. */
int cl_error_agree(MPI_Comm comm, int status);

/* Error report after an agreed failure (status is the same on every rank; not collective):
 * a user error (every rank parses the same input and fails alike) and a stop on a signal (all
 * ranks stop at the same step) are printed once, by rank 0 (the latter as "condlif: stopped
 * ..."); any other error is printed by each rank that recorded a message, with its rank number.
 * Prints to stderr, prefixed "condlif: error: ". */
void cl_error_report(MPI_Comm comm, int status);

/* Prints "condlif: rank R: fatal: <message>" and calls MPI_Abort. For unrecoverable failures
 * inside the time loop, where no collective agreement is possible. Never returns. */
_Noreturn void cl_error_abort(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define CL_ERROR(code, ...) cl_error_set((code), __FILE__, __LINE__, __VA_ARGS__)
#define CL_CALL(expr)                                                                              \
  do {                                                                                             \
    int cl_status_ = (expr);                                                                       \
    if (cl_status_ != CL_OK) {                                                                     \
      cl_error_trace(__FILE__, __LINE__, __func__);                                                \
      return cl_status_;                                                                           \
    }                                                                                              \
  } while (0)

/* Allocation helpers that record CL_ERR_MEM with file:line on failure. */
void *cl_malloc_at(size_t n, const char *file, int line);
void *cl_calloc_at(size_t count, size_t size, const char *file, int line);
void *cl_realloc_at(void *p, size_t n, const char *file, int line);
#define cl_malloc(n) cl_malloc_at((n), __FILE__, __LINE__)
/* cl_malloc for large arrays that are accessed at random (synapses): backed by transparent huge
 * pages where the system allows, so that random access does not miss the TLB at every step.
 * Freed with free(). */
void *cl_malloc_large_at(size_t n, const char *file, int line);
#define cl_malloc_large(n) cl_malloc_large_at((n), __FILE__, __LINE__)
/* Backs the whole pages inside [p, p + n) with memory now, in one system call, instead of one
 * page fault per page at first write (advice only: nothing happens where the kernel lacks
 * MADV_POPULATE_WRITE, Linux < 5.14). On the development VM (a guest with shadow page tables) a
 * page fault costs 11.5 us; a populated page 0.8-1.1 us and its first write then 1.8-2.4 us
 * more; natively the gain is smaller but never negative. For buffers that grow inside the time
 * loop. */
void cl_prefault(void *p, size_t n);
/* cl_prefault, then writes zeros to [p, p + n): every page is mapped and written once now, so
 * that the time loop's first writes cost nothing. For buffers allocated before the loop. */
void cl_touch(void *p, size_t n);
/* cl_realloc, then cl_prefault on the whole block: for buffers that grow inside the time loop
 * (output, exchange, spikes in transit), where each new page would otherwise fault at its first
 * write. */
void *cl_realloc_prefault_at(void *p, size_t n, const char *file, int line);
#define cl_realloc_prefault(p, n) cl_realloc_prefault_at((p), (n), __FILE__, __LINE__)
#define cl_calloc(c, s) cl_calloc_at((c), (s), __FILE__, __LINE__)
#define cl_realloc(p, n) cl_realloc_at((p), (n), __FILE__, __LINE__)
/* Evaluates to CL_ERR_MEM (already recorded) when ptr is NULL and n is nonzero. */
#define CL_ALLOC_CHECK(ptr)                                                                        \
  do {                                                                                             \
    if (!(ptr)) {                                                                                  \
      return CL_ERR_MEM;                                                                           \
    }                                                                                              \
  } while (0)

#endif
