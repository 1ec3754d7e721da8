/* Assertions of the unit tests: a failed check prints file:line, the condition and, for
 * CHECK_MSG, a printf-style message; it counts in `failures` and the test goes on (main returns
 * failures != 0). */
#ifndef CONDLIF_TESTS_CHECK_H
#define CONDLIF_TESTS_CHECK_H

#include <stdarg.h>
#include <stdio.h>

static int failures;

static inline void check_failed(const char *file, int line, const char *cond) {
  fprintf(stderr, "%s:%d: check failed: %s\n", file, line, cond);
  failures++;
}

__attribute__((format(printf, 4, 5))) static inline void
check_failed_msg(const char *file, int line, const char *cond, const char *fmt, ...) {
  fprintf(stderr, "%s:%d: check failed: %s: ", file, line, cond);
  va_list ap;
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  failures++;
}

#define CHECK(cond)                                                                                \
  do {                                                                                             \
    if (!(cond))                                                                                   \
      check_failed(__FILE__, __LINE__, #cond);                                                     \
  } while (0)

#define CHECK_MSG(cond, ...)                                                                       \
  do {                                                                                             \
    if (!(cond))                                                                                   \
      check_failed_msg(__FILE__, __LINE__, #cond, __VA_ARGS__);                                    \
  } while (0)

#endif
