#include "condlif/h5util.h"

#include <stdio.h>
#include <string.h>

#include "condlif/error.h"

static herr_t walk_cb(unsigned n, const H5E_error2_t *err, void *data) {
  char *buf = data;
  if (n == 0 && err->desc)
    snprintf(buf, 256, "%s (in %s)", err->desc, err->func_name ? err->func_name : "?");
  return 0;
}

int cl_h5_fail(const char *file, int line, const char *what) {
  char detail[256] = "no detail";
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, walk_cb, detail);
  H5Eclear2(H5E_DEFAULT);
  return cl_error_set(CL_ERR_HDF5, file, line, "HDF5: %s: %s", what, detail);
}

void cl_h5_close(hid_t *id) {
  if (*id >= 0) {
    switch (H5Iget_type(*id)) {
    case H5I_FILE:
      H5Fclose(*id);
      break;
    case H5I_GROUP:
      H5Gclose(*id);
      break;
    case H5I_DATASET:
      H5Dclose(*id);
      break;
    case H5I_DATASPACE:
      H5Sclose(*id);
      break;
    case H5I_DATATYPE:
      H5Tclose(*id);
      break;
    case H5I_ATTR:
      H5Aclose(*id);
      break;
    case H5I_GENPROP_LST:
      H5Pclose(*id);
      break;
    default:
      break;
    }
  }
  *id = H5I_INVALID_HID;
}

int cl_h5_attr_write(hid_t loc, const char *name, hid_t file_type, hid_t mem_type, hsize_t n,
                     const void *value) {
  hid_t space = n ? H5Screate_simple(1, &n, NULL) : H5Screate(H5S_SCALAR);
  H5_TRY(space, "creating a dataspace");
  hid_t a = H5Acreate2(loc, name, file_type, space, H5P_DEFAULT, H5P_DEFAULT);
  H5Sclose(space);
  if (a < 0)
    return H5FAIL(name);
  herr_t e = H5Awrite(a, mem_type, value);
  H5Aclose(a);
  H5_TRY(e, name);
  return CL_OK;
}

int cl_h5_attr_string(hid_t loc, const char *name, const char *value) {
  hid_t t = H5Tcopy(H5T_C_S1);
  H5_TRY(t, "string type");
  H5Tset_size(t, H5T_VARIABLE);
  H5Tset_cset(t, H5T_CSET_UTF8);
  const char *v = value ? value : "";
  int st = cl_h5_attr_write(loc, name, t, t, 0, &v);
  H5Tclose(t);
  return st;
}

int cl_h5_write_text(hid_t loc, const char *name, const char *text, hid_t dxpl, int writer) {
  const char *s = text ? text : "";
  hid_t t = H5Tcopy(H5T_C_S1);
  H5_TRY(t, name);
  H5Tset_size(t, strlen(s) + 1);
  H5Tset_strpad(t, H5T_STR_NULLTERM);
  H5Tset_cset(t, H5T_CSET_UTF8);
  hid_t space = H5Screate(H5S_SCALAR);
  hid_t ds =
      space < 0 ? -1 : H5Dcreate2(loc, name, t, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  hid_t fs = ds < 0 ? -1 : H5Scopy(space), ms = fs < 0 ? -1 : H5Scopy(space);
  herr_t e = ms < 0 ? -1 : 0;
  if (e >= 0 && !writer) {
    e = H5Sselect_none(fs);
    if (e >= 0)
      e = H5Sselect_none(ms);
  }
  if (e >= 0)
    e = H5Dwrite(ds, t, ms, fs, dxpl, s);
  hid_t ids[5] = {ms, fs, ds, space, t};
  for (int i = 0; i < 5; i++)
    cl_h5_close(&ids[i]);
  H5_TRY(e, name);
  return CL_OK;
}

int cl_h5_block(hid_t ds, hid_t xfer, hid_t mem_type, int rank, hsize_t start, hsize_t count,
                hsize_t col0, hsize_t cols, void *buf, int write, const char *what) {
  hid_t fs = H5Dget_space(ds);
  H5_TRY(fs, what);
  hsize_t n = rank > 1 ? count * cols : count;
  hsize_t mdim = n ? n : 1;
  hid_t ms = H5Screate_simple(1, &mdim, NULL);
  herr_t e = ms < 0 ? -1 : 0;
  static char dummy[16];
  if (e >= 0 && n == 0) {
    e = H5Sselect_none(fs);
    if (e >= 0)
      e = H5Sselect_none(ms);
    buf = dummy;
  } else if (e >= 0) {
    hsize_t off[2] = {start, col0}, cnt[2] = {count, cols};
    e = H5Sselect_hyperslab(fs, H5S_SELECT_SET, off, NULL, cnt, NULL);
  }
  if (e >= 0)
    e = write ? H5Dwrite(ds, mem_type, ms, fs, xfer, buf)
              : H5Dread(ds, mem_type, ms, fs, xfer, buf);
  if (ms >= 0)
    H5Sclose(ms);
  H5Sclose(fs);
  H5_TRY(e, what);
  return CL_OK;
}
