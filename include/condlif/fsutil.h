/* File-system helpers for the run directory: what a path is, creating a directory with its
 * parents and undoing that creation. None of these functions is collective: the output writer
 * calls them on rank 0 only. */
#ifndef CONDLIF_FSUTIL_H
#define CONDLIF_FSUTIL_H

typedef enum {
  CL_FS_MISSING = 0, /* nothing at this path */
  CL_FS_DIR = 1,     /* a directory (or a symbolic link to one) */
  CL_FS_OTHER = 2,   /* a file of another kind */
} cl_fs_kind;

/* What is at path (following symbolic links). Not collective. */
cl_fs_kind cl_fsutil_kind(const char *path);

/* Creates directory path and any missing parents (mode 0777 minus the umask). *n_created is
 * set to the number of directories created (the deepest components of path), also on failure,
 * so that cl_fsutil_remove_created() can undo them. Fails with CL_ERR_IO naming the component
 * that could not be created. Not collective. */
int cl_fsutil_mkdir_p(const char *path, int *n_created);

/* Removes the n_created deepest directories of path that cl_fsutil_mkdir_p() created, deepest
 * first, stopping at the first one that cannot be removed (e.g. no longer empty). Not
 * collective. */
void cl_fsutil_remove_created(const char *path, int n_created);

#endif
