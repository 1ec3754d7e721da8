/* Small HDF5 helpers shared by the writers of the run directory (output.c, checkpoint.c):
 * failures recorded through cl_error with HDF5's innermost message, attributes, closing. */
#ifndef CONDLIF_H5UTIL_H
#define CONDLIF_H5UTIL_H

#include <hdf5.h>

/* Records an HDF5 failure (what failed, and the innermost message of HDF5's error stack, which
 * it clears); returns CL_ERR_HDF5. */
int cl_h5_fail(const char *file, int line, const char *what);
#define H5FAIL(what) cl_h5_fail(__FILE__, __LINE__, (what))
#define H5_TRY(expr, what)                                                                         \
  do {                                                                                             \
    if ((expr) < 0)                                                                                \
      return H5FAIL(what);                                                                         \
  } while (0)

/* Closes any HDF5 object (file, group, dataset, dataspace, datatype, attribute, property list)
 * if it is valid, and sets *id invalid. */
void cl_h5_close(hid_t *id);

/* Creates attribute name of loc: a scalar (n 0) or a 1-D array of n values. */
int cl_h5_attr_write(hid_t loc, const char *name, hid_t file_type, hid_t mem_type, hsize_t n,
                     const void *value);
/* A scalar variable-length UTF-8 string attribute (what h5py reads as str). */
int cl_h5_attr_string(hid_t loc, const char *name, const char *value);

/* Writes (write 1) or reads count elements (rows) of buf from start along the first dimension
 * of ds (and cols columns from col0 along the second when rank is 2) with transfer property
 * list xfer (collective or independent). count or cols may be 0 on some ranks (an empty
 * selection: a collective transfer needs every rank). */
int cl_h5_block(hid_t ds, hid_t xfer, hid_t mem_type, int rank, hsize_t start, hsize_t count,
                hsize_t col0, hsize_t cols, void *buf, int write, const char *what);

/* Creates the scalar string dataset name of loc (UTF-8, fixed length) holding text, written by
 * the rank with writer set (the others take part with an empty selection) through dxpl.
 * Collective when the file is open for parallel access. */
int cl_h5_write_text(hid_t loc, const char *name, const char *text, hid_t dxpl, int writer);

#endif
