#include "condlif/fsutil.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "condlif/error.h"

cl_fs_kind cl_fsutil_kind(const char *path) {
  struct stat st;
  if (stat(path, &st) != 0)
    return CL_FS_MISSING;
  return S_ISDIR(st.st_mode) ? CL_FS_DIR : CL_FS_OTHER;
}

/* Length of path without trailing slashes (but keeping a lone "/"). */
static size_t trimmed_length(const char *path) {
  size_t n = strlen(path);
  while (n > 1 && path[n - 1] == '/')
    n--;
  return n;
}

int cl_fsutil_mkdir_p(const char *path, int *n_created) {
  *n_created = 0;
  size_t n = trimmed_length(path);
  if (n == 0)
    return CL_ERROR(CL_ERR_USER, "empty directory name");
  char *buf = cl_malloc(n + 1);
  CL_ALLOC_CHECK(buf);
  memcpy(buf, path, n);
  buf[n] = '\0';
  /* Walk the components from the root; each prefix that ends a component is created if it is
   * missing. Once one component had to be created, all deeper ones are new as well. */
  int status = CL_OK;
  for (size_t i = 1; i <= n && status == CL_OK; i++) {
    if (i < n && buf[i] != '/')
      continue;
    if (i < n && buf[i - 1] == '/')
      continue; /* repeated slash */
    char saved = buf[i];
    buf[i] = '\0';
    if (mkdir(buf, 0777) == 0) {
      (*n_created)++;
    } else if (errno == EEXIST) {
      if (cl_fsutil_kind(buf) != CL_FS_DIR)
        status = CL_ERROR(CL_ERR_IO, "cannot create directory %s: %s exists and is not a directory",
                          path, buf);
    } else {
      status =
          CL_ERROR(CL_ERR_IO, "cannot create directory %s: %s: %s", path, buf, strerror(errno));
    }
    buf[i] = saved;
  }
  free(buf);
  return status;
}

void cl_fsutil_remove_created(const char *path, int n_created) {
  size_t n = trimmed_length(path);
  char *buf = malloc(n + 1);
  if (!buf)
    return;
  memcpy(buf, path, n);
  buf[n] = '\0';
  for (int k = 0; k < n_created; k++) {
    if (rmdir(buf) != 0)
      break;
    /* Strip the last component and the slashes before it. */
    size_t len = strlen(buf);
    while (len > 0 && buf[len - 1] != '/')
      len--;
    while (len > 1 && buf[len - 1] == '/')
      len--;
    if (len == 0)
      break;
    buf[len] = '\0';
  }
  free(buf);
}
