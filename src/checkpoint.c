/* Checkpoints with parallel HDF5 (what they hold: checkpoint.h5; layout: doc/output.md).
 *
 * Every per-neuron array is a dataset over the whole population, indexed by node id (a
 * stimulus of selected neurons: by position in its sorted ids), whatever P wrote or reads it;
 * each rank writes and reads one contiguous block of it, the elements moved between their
 * round-robin owners and the blocks by MPI (see "arrays by node id"). The spikes in transit are
 * known to every rank that hosts targets of theirs; each rank sends what it knows to the
 * owner of the source, which keeps one copy. */
#include "condlif/checkpoint.h"

#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "condlif/error.h"
#include "condlif/h5util.h"
#include "condlif/version.h"

#define CL_CHECKPOINT_FORMAT "condlif checkpoint"
/* 2: x_ex and x_in are stored times dt/(2 tau) (cl_scale); 1 held them without */
#define CL_CHECKPOINT_VERSION 2

/* One file open for collective I/O. */
typedef struct {
  MPI_Comm comm;
  int rank, size;
  hid_t file, fapl, dxpl;
} ckpt;

static int ckpt_init(ckpt *k, MPI_Comm comm) {
  k->comm = comm;
  MPI_Comm_rank(comm, &k->rank);
  MPI_Comm_size(comm, &k->size);
  k->file = H5I_INVALID_HID;
  k->fapl = H5Pcreate(H5P_FILE_ACCESS);
  k->dxpl = H5Pcreate(H5P_DATASET_XFER);
  if (k->fapl < 0 || k->dxpl < 0 || H5Pset_fapl_mpio(k->fapl, comm, MPI_INFO_NULL) < 0 ||
      H5Pset_fclose_degree(k->fapl, H5F_CLOSE_STRONG) < 0 ||
      H5Pset_all_coll_metadata_ops(k->fapl, 1) < 0 || H5Pset_coll_metadata_write(k->fapl, 1) < 0 ||
      H5Pset_dxpl_mpio(k->dxpl, H5FD_MPIO_COLLECTIVE) < 0)
    return H5FAIL("setting up parallel file access");
  return CL_OK;
}

static int ckpt_close(ckpt *k, int st) {
  if (k->file >= 0 && H5Fclose(k->file) < 0 && st == CL_OK)
    st = H5FAIL("closing " CL_CHECKPOINT_FILE);
  k->file = H5I_INVALID_HID;
  cl_h5_close(&k->fapl);
  cl_h5_close(&k->dxpl);
  return st;
}

/* Creates dataset name of `total` elements in loc and writes elements [first, first + count)
 * from buf. Collective. */
static int put(ckpt *k, hid_t loc, const char *name, hid_t ftype, hid_t mtype, uint64_t total,
               uint64_t first, uint64_t count, const void *buf) {
  hsize_t n = total;
  hid_t fs = H5Screate_simple(1, &n, NULL);
  H5_TRY(fs, name);
  hid_t ds = H5Dcreate2(loc, name, ftype, fs, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  H5Sclose(fs);
  if (ds < 0)
    return H5FAIL(name);
  int st =
      total ? cl_h5_block(ds, k->dxpl, mtype, 1, first, count, 0, 0, (void *)buf, 1, name) : CL_OK;
  H5Dclose(ds);
  return st;
}

/* Reads elements [first, first + count) of dataset name of loc, which must hold `total`
 * elements, into buf. Collective. */
static int get(ckpt *k, hid_t loc, const char *name, hid_t mtype, uint64_t total, uint64_t first,
               uint64_t count, void *buf) {
  hid_t ds = H5Dopen2(loc, name, H5P_DEFAULT);
  if (ds < 0)
    return H5FAIL(name);
  hid_t fs = H5Dget_space(ds);
  hssize_t have = fs < 0 ? -1 : H5Sget_simple_extent_npoints(fs);
  cl_h5_close(&fs);
  int st = have < 0 ? H5FAIL(name) : CL_OK;
  if (st == CL_OK && (uint64_t)have != total)
    st = CL_ERROR(CL_ERR_USER, "%s: %s holds %lld values, expected %llu", CL_CHECKPOINT_FILE, name,
                  (long long)have, (unsigned long long)total);
  if (st == CL_OK && total > 0)
    st = cl_h5_block(ds, k->dxpl, mtype, 1, first, count, 0, 0, buf, 0, name);
  H5Dclose(ds);
  return st;
}

/* The whole dataset from and to every rank (small arrays: the counts). */
static int put_all(ckpt *k, hid_t loc, const char *name, hid_t ftype, hid_t mtype, uint64_t n,
                   const void *buf) {
  return put(k, loc, name, ftype, mtype, n, 0, k->rank == 0 ? n : 0, buf);
}
static int get_all(ckpt *k, hid_t loc, const char *name, hid_t mtype, uint64_t n, void *buf) {
  return get(k, loc, name, mtype, n, 0, n, buf);
}

/* ---- arrays by node id ---------------------------------------------------------------------
 * A rank's elements of an array by node id (or by position in a selection) lie one in every P
 * (round-robin): written or read as such, a strided selection, collective HDF5 took 1.8 s for
 * the 9.7 MB of a 200 000-neuron checkpoint on 2 ranks (0.02 s on 1). So the elements travel
 * first: rank r writes and reads the contiguous block [lo(r), lo(r + 1)) of every array, and
 * one MPI_Alltoallv moves each element between its rank and its block's. */

static uint64_t block_lo(uint64_t total, int P, int r) {
  uint64_t q = total / (uint64_t)P, rem = total % (uint64_t)P;
  return q * (uint64_t)r + rem * (uint64_t)r / (uint64_t)P;
}

static int block_of(uint64_t total, int P, uint64_t i) {
  int r = (int)((double)i / (double)total * P);
  r = r < 0 ? 0 : r >= P ? P - 1 : r;
  while (r + 1 < P && block_lo(total, P, r + 1) <= i)
    r++;
  while (r > 0 && block_lo(total, P, r) > i)
    r--;
  return r;
}

/* This rank's n elements of an array of `total`, at increasing positions pos[0..n). */
typedef struct {
  uint64_t total, n;
  const uint64_t *pos;
} spread;

/* Counts (in 8-byte words, `per` per element) that this rank sends each block, and their
 * offsets; the words each block owner gets back follow from MPI_Alltoall. */
static void block_counts(ckpt *k, const spread *sp, int per, int *cnt, int *dsp, int *rcnt,
                         int *rdsp) {
  const int P = k->size;
  memset(cnt, 0, (size_t)P * sizeof *cnt);
  for (uint64_t j = 0; j < sp->n; j++)
    cnt[block_of(sp->total, P, sp->pos[j])] += per;
  MPI_Alltoall(cnt, 1, MPI_INT, rcnt, 1, MPI_INT, k->comm);
  dsp[0] = rdsp[0] = 0;
  for (int r = 1; r < P; r++) {
    dsp[r] = dsp[r - 1] + cnt[r - 1];
    rdsp[r] = rdsp[r - 1] + rcnt[r - 1];
  }
}

/* Writes an array of 8-byte values by position: values[j] (the bytes of a double or uint64) is
 * element sp->pos[j]. Collective. */
static int put_spread(ckpt *k, hid_t loc, const char *name, hid_t ftype, hid_t mtype,
                      const spread *sp, const void *values) {
  const int P = k->size;
  const uint64_t lo = block_lo(sp->total, P, k->rank),
                 n_block = block_lo(sp->total, P, k->rank + 1) - lo;
  int *c = cl_malloc(4 * (size_t)P * sizeof *c);
  uint64_t *send = cl_malloc((2 * sp->n + 1) * sizeof *send);
  uint64_t *block = cl_malloc((n_block + 1) * sizeof *block);
  uint64_t *recv = cl_malloc((2 * n_block + 1) * sizeof *recv);
  int st = cl_error_agree(k->comm, c && send && block && recv ? CL_OK : CL_ERR_MEM);
  if (st == CL_OK) {
    block_counts(k, sp, 2, c, c + P, c + 2 * P, c + 3 * P);
    for (uint64_t j = 0; j < sp->n; j++) { /* (position, value): in block order already */
      send[2 * j] = sp->pos[j];
      memcpy(&send[2 * j + 1], (const char *)values + 8 * j, 8);
    }
    MPI_Alltoallv(send, c, c + P, MPI_UINT64_T, recv, c + 2 * P, c + 3 * P, MPI_UINT64_T, k->comm);
    for (uint64_t i = 0; i < n_block; i++)
      block[recv[2 * i] - lo] = recv[2 * i + 1];
    st = put(k, loc, name, ftype, mtype, sp->total, lo, n_block, block);
  }
  free(c);
  free(send);
  free(block);
  free(recv);
  return cl_error_agree(k->comm, st);
}

/* Reads an array of 8-byte values by position into values[j] = element sp->pos[j]: each rank
 * reads its block, and answers the positions the others ask for. Collective. */
static int get_spread(ckpt *k, hid_t loc, const char *name, hid_t mtype, const spread *sp,
                      void *values) {
  const int P = k->size;
  const uint64_t lo = block_lo(sp->total, P, k->rank),
                 n_block = block_lo(sp->total, P, k->rank + 1) - lo;
  int *c = cl_malloc(4 * (size_t)P * sizeof *c);
  uint64_t *block = cl_malloc((n_block + 1) * sizeof *block);
  uint64_t *asked = cl_malloc((n_block + 1) * sizeof *asked);
  uint64_t *got = cl_malloc((sp->n + 1) * sizeof *got);
  int st = cl_error_agree(k->comm, c && block && asked && got ? CL_OK : CL_ERR_MEM);
  if (st == CL_OK)
    st = cl_error_agree(k->comm, get(k, loc, name, mtype, sp->total, lo, n_block, block));
  if (st == CL_OK) {
    block_counts(k, sp, 1, c, c + P, c + 2 * P, c + 3 * P);
    MPI_Alltoallv(sp->pos, c, c + P, MPI_UINT64_T, asked, c + 2 * P, c + 3 * P, MPI_UINT64_T,
                  k->comm);
    for (uint64_t i = 0; i < n_block; i++)
      asked[i] = block[asked[i] - lo];
    /* the answers come back by block, in the order asked: this rank's order */
    MPI_Alltoallv(asked, c + 2 * P, c + 3 * P, MPI_UINT64_T, got, c, c + P, MPI_UINT64_T, k->comm);
    memcpy(values, got, 8 * sp->n);
  }
  free(c);
  free(block);
  free(asked);
  free(got);
  return st;
}

static hid_t make_group(hid_t loc, const char *name) {
  return H5Gcreate2(loc, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
}

/* The node ids of a population's local neurons (first, first + P, ...) as a spread. */
static int pop_spread(const cl_pop *pop, int P, spread *sp, uint64_t **pos) {
  *pos = cl_malloc((pop->n_local + 1) * sizeof **pos);
  CL_ALLOC_CHECK(*pos);
  const uint64_t first = pop->n_local ? pop->gid0 - pop->cfg->first_gid : 0;
  for (uint64_t j = 0; j < pop->n_local; j++)
    (*pos)[j] = first + j * (uint64_t)P;
  *sp = (spread){pop->cfg->size, pop->n_local, *pos};
  return CL_OK;
}

/* The positions of a Poisson stimulus's local targets: node ids when it targets every neuron,
 * else indices into its sorted selection. */
static int stim_spread(const cl_stim *s, int rank, int P, spread *sp, uint64_t **pos) {
  if (s->all)
    return pop_spread(s->pop, P, sp, pos);
  *pos = cl_malloc((s->n + 1) * sizeof **pos);
  CL_ALLOC_CHECK(*pos);
  const cl_selection *sel = &s->cfg->sel;
  const uint64_t first = s->pop->cfg->first_gid;
  size_t m = 0;
  for (size_t i = 0; i < sel->n && m < s->n; i++)
    if (cl_gid_rank(first + sel->ids[i], P) == rank)
      (*pos)[m++] = i;
  *sp = (spread){sel->n, s->n, *pos};
  return CL_OK;
}

/* The per-neuron arrays of one population (direction: write or read). */
typedef struct {
  const char *name;
  hid_t ftype, mtype;
  void *data;
} column;

static size_t pop_columns(cl_pop *pop, column *col) {
  cl_neuron_state *s = &pop->state;
  switch (pop->cfg->model) {
  case CL_MODEL_COND_ALPHA:
    col[0] = (column){"V_m", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, s->V_m};
    col[1] = (column){"g_ex", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, s->g_ex};
    col[2] = (column){"x_ex", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, s->x_ex};
    col[3] = (column){"g_in", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, s->g_in};
    col[4] = (column){"x_in", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, s->x_in};
    col[5] = (column){"t_ref_end", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, s->t_ref_end};
    return 6;
  case CL_MODEL_POISSON_SOURCE:
    col[0] = (column){"next_spike", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, pop->next_spike};
    col[1] = (column){"draws", H5T_STD_U64LE, H5T_NATIVE_UINT64, pop->draws};
    return 2;
  default:
    col[0] = (column){"cursor", H5T_STD_U64LE, H5T_NATIVE_UINT64, pop->cursor};
    return 1;
  }
}

/* Moves every rank's (gid, step) pairs to the rank owning the gid, which sorts them and keeps
 * one of each. Returns the owner's pairs (step, gid interleaved) in *out, *n_out of them. */
static int pair_cmp(const void *pa, const void *pb) {
  const uint64_t *a = pa, *b = pb; /* {step + bias, gid} */
  return a[0] != b[0] ? (a[0] < b[0] ? -1 : 1) : a[1] < b[1] ? -1 : a[1] > b[1];
}

#define STEP_BIAS (UINT64_C(1) << 63) /* steps as unsigned keys that keep their order */

static int gather_transit(ckpt *k, const uint64_t *gid, const int64_t *step, size_t n,
                          uint64_t **out, size_t *n_out) {
  int P = k->size;
  int *cnt = cl_calloc(4 * (size_t)P, sizeof *cnt);
  uint64_t *send = cl_malloc((2 * n + 2) * sizeof *send);
  int st = cnt && send ? CL_OK : CL_ERR_MEM;
  if ((st = cl_error_agree(k->comm, st)) != CL_OK) {
    free(cnt);
    free(send);
    return st;
  }
  int *sdsp = cnt + P, *rcnt = cnt + 2 * P, *rdsp = cnt + 3 * P;
  for (size_t i = 0; i < n; i++)
    cnt[cl_gid_rank(gid[i], P)] += 2;
  for (int r = 1; r < P; r++)
    sdsp[r] = sdsp[r - 1] + cnt[r - 1];
  int *fill = rcnt; /* borrowed as a cursor before the counts arrive */
  memcpy(fill, sdsp, (size_t)P * sizeof *fill);
  for (size_t i = 0; i < n; i++) {
    int r = cl_gid_rank(gid[i], P);
    send[fill[r]++] = (uint64_t)step[i] + STEP_BIAS;
    send[fill[r]++] = gid[i];
  }
  MPI_Alltoall(cnt, 1, MPI_INT, rcnt, 1, MPI_INT, k->comm);
  size_t total = 0;
  for (int r = 0; r < P; r++) {
    rdsp[r] = (int)total;
    total += (size_t)rcnt[r];
  }
  uint64_t *recv = cl_malloc((total + 2) * sizeof *recv);
  st = cl_error_agree(k->comm, recv ? CL_OK : CL_ERR_MEM);
  if (st == CL_OK) {
    MPI_Alltoallv(send, cnt, sdsp, MPI_UINT64_T, recv, rcnt, rdsp, MPI_UINT64_T, k->comm);
    size_t m = total / 2, kept = 0;
    qsort(recv, m, 2 * sizeof *recv, pair_cmp);
    for (size_t i = 0; i < m; i++)
      if (kept == 0 || pair_cmp(recv + 2 * i, recv + 2 * (kept - 1)) != 0) {
        recv[2 * kept] = recv[2 * i];
        recv[2 * kept + 1] = recv[2 * i + 1];
        kept++;
      }
    *out = recv;
    *n_out = kept;
  } else {
    free(recv);
  }
  free(cnt);
  free(send);
  return st;
}

static int write_transit(ckpt *k, hid_t g, const uint64_t *gid, const int64_t *step, size_t n) {
  uint64_t *pairs = NULL;
  size_t m = 0;
  CL_CALL(gather_transit(k, gid, step, n, &pairs, &m));
  uint64_t *g_out = cl_malloc((m + 1) * sizeof *g_out);
  int64_t *s_out = cl_malloc((m + 1) * sizeof *s_out);
  int st = cl_error_agree(k->comm, g_out && s_out ? CL_OK : CL_ERR_MEM);
  if (st == CL_OK) {
    for (size_t i = 0; i < m; i++) {
      s_out[i] = (int64_t)(pairs[2 * i] - STEP_BIAS);
      g_out[i] = pairs[2 * i + 1];
    }
    uint64_t mine = m, first = 0, total = 0;
    MPI_Exscan(&mine, &first, 1, MPI_UINT64_T, MPI_SUM, k->comm);
    MPI_Allreduce(&mine, &total, 1, MPI_UINT64_T, MPI_SUM, k->comm);
    if (k->rank == 0)
      first = 0;
    st = put(k, g, "gid", H5T_STD_U64LE, H5T_NATIVE_UINT64, total, first, m, g_out);
    if ((st = cl_error_agree(k->comm, st)) == CL_OK)
      st = put(k, g, "step", H5T_STD_I64LE, H5T_NATIVE_INT64, total, first, m, s_out);
  }
  free(pairs);
  free(g_out);
  free(s_out);
  return cl_error_agree(k->comm, st);
}

/* The report files in the order sim.c opens them: each report's variables in cl_var order. */
static size_t n_report_files(const cl_config *cfg) {
  size_t n = 0;
  for (size_t r = 0; r < cfg->n_reports; r++)
    n += (size_t)__builtin_popcount(cfg->reports[r].vars);
  return n;
}

static size_t n_spike_files(const cl_config *cfg) {
  size_t n = 0;
  for (size_t p = 0; p < cfg->n_populations; p++)
    n += cfg->populations[p].record_spikes != 0;
  return n;
}

/* Writes (write 1) or reads the groups of the state, /populations/<pop> (spike count and the
 * per-neuron arrays) and /stimuli/<stim>. Collective; returns the agreed status. */
static hid_t open_or_create(hid_t loc, const char *name, int write) {
  return write ? make_group(loc, name) : H5Gopen2(loc, name, H5P_DEFAULT);
}

static int io_spread(ckpt *k, hid_t g, const column *col, const spread *sp, int write) {
  return write ? put_spread(k, g, col->name, col->ftype, col->mtype, sp, col->data)
               : get_spread(k, g, col->name, col->mtype, sp, col->data);
}

static int io_u64_attr(hid_t g, const char *name, uint64_t *v, int write) {
  if (write)
    return cl_h5_attr_write(g, name, H5T_STD_U64LE, H5T_NATIVE_UINT64, 0, v);
  hid_t a = H5Aopen(g, name, H5P_DEFAULT);
  herr_t e = a < 0 ? -1 : H5Aread(a, H5T_NATIVE_UINT64, v);
  if (a >= 0)
    H5Aclose(a);
  H5_TRY(e, name);
  return CL_OK;
}

static int io_populations(ckpt *k, cl_network *net, uint64_t *spike_count, int write) {
  hid_t top = open_or_create(k->file, "populations", write);
  H5_TRY(top, "/populations");
  int st = CL_OK;
  for (size_t p = 0; p < net->n_pops && st == CL_OK; p++) {
    cl_pop *pop = &net->pops[p];
    hid_t g = open_or_create(top, pop->cfg->name, write);
    st = g < 0 ? H5FAIL(pop->cfg->name) : io_u64_attr(g, "spikes", &spike_count[p], write);
    uint64_t *pos = NULL;
    spread sp;
    if ((st = cl_error_agree(k->comm, st)) == CL_OK)
      st = cl_error_agree(k->comm, pop_spread(pop, k->size, &sp, &pos));
    column col[6];
    size_t nc = st == CL_OK ? pop_columns(pop, col) : 0;
    for (size_t i = 0; i < nc && st == CL_OK; i++)
      st = cl_error_agree(k->comm, io_spread(k, g, &col[i], &sp, write));
    if (!write)
      pop->next_due = -INFINITY; /* next_spike, cursor read: sources scanned at the next step */
    free(pos);
    if (g >= 0)
      H5Gclose(g);
  }
  H5Gclose(top);
  return cl_error_agree(k->comm, st);
}

/* With fork (reading for a run from another run's state), only the stimuli that resume. */
static int io_stimuli(ckpt *k, cl_stimuli *stim, int write, int fork) {
  hid_t top = open_or_create(k->file, "stimuli", write);
  H5_TRY(top, "/stimuli");
  int st = CL_OK;
  for (size_t i = 0; i < stim->n && st == CL_OK; i++) {
    cl_stim *s = &stim->stims[i];
    if (s->cfg->kind != CL_STIM_POISSON && s->cfg->kind != CL_STIM_SPIKES)
      continue;
    if (fork && !s->cfg->resumes)
      continue;
    hid_t g = open_or_create(top, s->cfg->name, write);
    st = cl_error_agree(k->comm, g < 0 ? H5FAIL(s->cfg->name) : CL_OK);
    if (st == CL_OK && s->cfg->kind == CL_STIM_SPIKES) { /* the same on every rank */
      uint64_t cur = s->cursor;
      st = cl_error_agree(k->comm, io_u64_attr(g, "cursor", &cur, write));
      s->cursor = (size_t)cur;
    } else if (st == CL_OK) {
      uint64_t *pos = NULL;
      spread sp;
      st = cl_error_agree(k->comm, stim_spread(s, k->rank, k->size, &sp, &pos));
      const column next = {"next", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, s->next},
                   draws = {"draws", H5T_STD_U64LE, H5T_NATIVE_UINT64, s->draws};
      if (st == CL_OK)
        st = cl_error_agree(k->comm, io_spread(k, g, &next, &sp, write));
      if (st == CL_OK)
        st = cl_error_agree(k->comm, io_spread(k, g, &draws, &sp, write));
      free(pos);
    }
    if (g >= 0)
      H5Gclose(g);
  }
  H5Gclose(top);
  return cl_error_agree(k->comm, st);
}

static int write_body(ckpt *k, const char *config_text, const cl_config *cfg, const cl_network *net,
                      const cl_stimuli *stim, const uint64_t *gid, const int64_t *step, size_t n,
                      const cl_checkpoint_counts *c) {
  hid_t f = k->file;
  const double t = (double)c->step * cfg->sim.dt;
  int32_t version = CL_CHECKPOINT_VERSION, n_ranks = k->size;
  int st = cl_h5_attr_string(f, "format", CL_CHECKPOINT_FORMAT);
#define ATTR(name, ft, mt, ptr)                                                                    \
  if (st == CL_OK)                                                                                 \
  st = cl_h5_attr_write(f, name, ft, mt, 0, ptr)
  ATTR("format_version", H5T_STD_I32LE, H5T_NATIVE_INT32, &version);
  ATTR("step", H5T_STD_I64LE, H5T_NATIVE_INT64, &c->step);
  ATTR("first_step", H5T_STD_I64LE, H5T_NATIVE_INT64, &c->first_step);
  ATTR("t_ms", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &t);
  ATTR("dt_ms", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &cfg->sim.dt);
  ATTR("seed", H5T_STD_U64LE, H5T_NATIVE_UINT64, &cfg->sim.seed);
  ATTR("n_neurons", H5T_STD_U64LE, H5T_NATIVE_UINT64, &cfg->n_total);
  ATTR("n_ranks", H5T_STD_I32LE, H5T_NATIVE_INT32, &n_ranks);
#undef ATTR
  if (st == CL_OK)
    st = cl_h5_attr_string(f, "version", CL_VERSION_STRING);
  if (st == CL_OK)
    st = cl_h5_attr_string(f, "git_commit", cl_git_commit);
  char *resolved = NULL;
  if (st == CL_OK && !(resolved = cl_config_resolved_text(cfg)))
    st = CL_ERR_MEM;
  if (st == CL_OK)
    st = cl_h5_write_text(f, "config", config_text, k->dxpl, k->rank == 0);
  if (st == CL_OK)
    st = cl_h5_write_text(f, "config_resolved", resolved, k->dxpl, k->rank == 0);
  free(resolved);
  CL_CALL(cl_error_agree(k->comm, st));

  /* (one function reads and writes the state; writing leaves it as it is) */
  st = io_populations(k, (cl_network *)net, c->spike_count, 1);
  if (st == CL_OK)
    st = io_stimuli(k, (cl_stimuli *)stim, 1, 0);
  CL_CALL(st);

  hid_t top = make_group(f, "transit");
  H5_TRY(top, "/transit");
  st = write_transit(k, top, gid, step, n);
  H5Gclose(top);
  CL_CALL(st);

  /* what the output files hold */
  top = make_group(f, "output");
  H5_TRY(top, "/output");
  st = put_all(k, top, "spikes", H5T_STD_U64LE, H5T_NATIVE_UINT64, c->n_spike_files, c->spikes);
  if ((st = cl_error_agree(k->comm, st)) == CL_OK)
    st = put_all(k, top, "spike_t_max", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, c->n_spike_files,
                 c->spike_t_max);
  if ((st = cl_error_agree(k->comm, st)) == CL_OK)
    st = put_all(k, top, "report_rows", H5T_STD_U64LE, H5T_NATIVE_UINT64, c->n_reports, c->rows);
  H5Gclose(top);
  return cl_error_agree(k->comm, st);
}

int cl_checkpoint_write(const char *dir, const char *config_text, const cl_config *cfg,
                        const cl_network *net, const cl_stimuli *st, const uint64_t *gid,
                        const int64_t *step, size_t n, const cl_checkpoint_counts *c,
                        MPI_Comm comm) {
  size_t len = strlen(dir) + sizeof CL_CHECKPOINT_FILE + 16;
  char *part = cl_malloc(len), *final = cl_malloc(len);
  ckpt k;
  int status = part && final ? ckpt_init(&k, comm) : CL_ERR_MEM;
  status = cl_error_agree(comm, status);
  if (status == CL_OK) {
    snprintf(part, len, "%s/." CL_CHECKPOINT_FILE ".partial", dir);
    snprintf(final, len, "%s/" CL_CHECKPOINT_FILE, dir);
    H5E_auto2_t efunc;
    void *edata;
    H5Eget_auto2(H5E_DEFAULT, &efunc, &edata);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    k.file = H5Fcreate(part, H5F_ACC_TRUNC, H5P_DEFAULT, k.fapl);
    status = cl_error_agree(comm, k.file < 0 ? H5FAIL(part) : CL_OK);
    if (status == CL_OK)
      status = write_body(&k, config_text, cfg, net, st, gid, step, n, c);
    status = cl_error_agree(comm, ckpt_close(&k, status));
    H5Eset_auto2(H5E_DEFAULT, efunc, edata);
    if (k.rank == 0) {
      if (status == CL_OK && rename(part, final) != 0)
        status = CL_ERROR(CL_ERR_IO, "cannot create %s: %s", final, strerror(errno));
      if (status != CL_OK)
        unlink(part);
    }
    status = cl_error_agree(comm, status);
  } else if (part && final) {
    ckpt_close(&k, status);
  }
  free(part);
  free(final);
  return status;
}

/* ---- reading ------------------------------------------------------------------------------ */

static char *get_text(hid_t f, const char *name) {
  hid_t ds = H5Dopen2(f, name, H5P_DEFAULT);
  hid_t t = ds < 0 ? -1 : H5Dget_type(ds);
  size_t n = t < 0 ? 0 : H5Tget_size(t);
  char *s = n ? cl_malloc(n + 1) : NULL;
  if (s && H5Dread(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, s) < 0) {
    free(s);
    s = NULL;
  }
  if (s)
    s[n] = '\0';
  if (t >= 0)
    H5Tclose(t);
  if (ds >= 0)
    H5Dclose(ds);
  return s;
}

/* Rank 0: the two texts and the step of the checkpoint at path; `what` begins the messages. */
static int read_texts(const char *path, const char *what, char **given, char **resolved,
                      int64_t *step) {
  struct stat sb;
  if (stat(path, &sb) != 0)
    return CL_ERROR(CL_ERR_USER,
                    "%s: %s: %s (a run writes it when a signal stops it, or at its "
                    "end with simulation.checkpoint = \"end\")",
                    what, path, strerror(errno));
  hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0)
    return CL_ERROR(CL_ERR_USER, "%s: %s is not an HDF5 file", what, path);
  int st = CL_OK;
  char *format = NULL;
  hid_t a = H5Aexists(f, "format") > 0 ? H5Aopen(f, "format", H5P_DEFAULT) : -1;
  hid_t t = a < 0 ? -1 : H5Aget_type(a);
  if (t < 0 || !H5Tis_variable_str(t) || H5Aread(a, t, &format) < 0 || !format ||
      strcmp(format, CL_CHECKPOINT_FORMAT) != 0)
    st = CL_ERROR(CL_ERR_USER, "%s: %s is not a condlif checkpoint", what, path);
  if (format)
    H5free_memory(format);
  if (t >= 0)
    H5Tclose(t);
  if (a >= 0)
    H5Aclose(a);
  int32_t version = 0;
  a = st == CL_OK ? H5Aopen(f, "format_version", H5P_DEFAULT) : -1;
  if (st == CL_OK &&
      (a < 0 || H5Aread(a, H5T_NATIVE_INT32, &version) < 0 || version != CL_CHECKPOINT_VERSION))
    st = CL_ERROR(CL_ERR_USER, "%s: %s has format version %d; this condlif reads %d", what, path,
                  (int)version, CL_CHECKPOINT_VERSION);
  if (a >= 0)
    H5Aclose(a);
  if (st == CL_OK) {
    *given = get_text(f, "config");
    *resolved = get_text(f, "config_resolved");
    a = H5Aopen(f, "step", H5P_DEFAULT);
    if (!*given || !*resolved || a < 0 || H5Aread(a, H5T_NATIVE_INT64, step) < 0)
      st = CL_ERROR(CL_ERR_USER, "%s: %s: its configuration cannot be read", what, path);
    if (a >= 0)
      H5Aclose(a);
  }
  H5Fclose(f);
  return st;
}

void cl_checkpoint_path(const char *where, char *path, size_t n) {
  size_t len = strlen(where);
  if (len > 3 && strcmp(where + len - 3, ".h5") == 0)
    snprintf(path, n, "%s", where);
  else
    snprintf(path, n, "%s/" CL_CHECKPOINT_FILE, where);
}

int cl_checkpoint_read_config(const char *path, const char *what, char **given, char **resolved,
                              int64_t *step, MPI_Comm comm) {
  int rank;
  MPI_Comm_rank(comm, &rank);
  *given = *resolved = NULL;
  long long len[2] = {-1, -1};
  int64_t at = 0;
  int st = CL_OK;
  if (rank == 0) {
    H5E_auto2_t efunc;
    void *edata;
    H5Eget_auto2(H5E_DEFAULT, &efunc, &edata);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    st = read_texts(path, what, given, resolved, &at);
    H5Eset_auto2(H5E_DEFAULT, efunc, edata);
    if (st == CL_OK) {
      len[0] = (long long)strlen(*given);
      len[1] = (long long)strlen(*resolved);
    }
  }
  MPI_Bcast(&st, 1, MPI_INT, 0, comm);
  if (st == CL_OK) {
    MPI_Bcast(len, 2, MPI_LONG_LONG, 0, comm);
    MPI_Bcast(&at, 1, MPI_INT64_T, 0, comm);
    if (step)
      *step = at;
  }
  if (st == CL_OK && rank != 0) {
    *given = cl_malloc((size_t)len[0] + 1);
    *resolved = cl_malloc((size_t)len[1] + 1);
    if (!*given || !*resolved)
      st = CL_ERR_MEM;
  }
  if (st == CL_OK && (st = cl_error_agree(comm, st)) == CL_OK) {
    MPI_Bcast(*given, (int)len[0] + 1, MPI_CHAR, 0, comm);
    MPI_Bcast(*resolved, (int)len[1] + 1, MPI_CHAR, 0, comm);
  }
  if (st != CL_OK) {
    free(*given);
    free(*resolved);
    *given = *resolved = NULL;
  }
  return st;
}

void cl_checkpoint_counts_free(cl_checkpoint_counts *c) {
  free(c->spike_count);
  free(c->spikes);
  free(c->spike_t_max);
  free(c->rows);
  memset(c, 0, sizeof *c);
}

static int read_transit(ckpt *k, uint64_t **gid, int64_t **step, size_t *n) {
  hid_t ds = H5Dopen2(k->file, "transit/gid", H5P_DEFAULT);
  hid_t fs = ds < 0 ? -1 : H5Dget_space(ds);
  hssize_t m = fs < 0 ? -1 : H5Sget_simple_extent_npoints(fs);
  if (fs >= 0)
    H5Sclose(fs);
  if (ds >= 0)
    H5Dclose(ds);
  H5_TRY(m, "/transit/gid");
  uint64_t *g = cl_malloc(((size_t)m + 1) * sizeof *g);
  int64_t *s = cl_malloc(((size_t)m + 1) * sizeof *s);
  uint64_t *pairs = cl_malloc((2 * (size_t)m + 2) * sizeof *pairs);
  int st = g && s && pairs ? CL_OK : CL_ERR_MEM;
  if ((st = cl_error_agree(k->comm, st)) == CL_OK)
    st = get_all(k, k->file, "transit/gid", H5T_NATIVE_UINT64, (uint64_t)m, g);
  if ((st = cl_error_agree(k->comm, st)) == CL_OK)
    st = get_all(k, k->file, "transit/step", H5T_NATIVE_INT64, (uint64_t)m, s);
  if ((st = cl_error_agree(k->comm, st)) == CL_OK) {
    /* written in blocks by owner rank: sorted here by (step, gid) */
    for (hssize_t i = 0; i < m; i++) {
      pairs[2 * i] = (uint64_t)s[i] + STEP_BIAS;
      pairs[2 * i + 1] = g[i];
    }
    qsort(pairs, (size_t)m, 2 * sizeof *pairs, pair_cmp);
    for (hssize_t i = 0; i < m; i++) {
      s[i] = (int64_t)(pairs[2 * i] - STEP_BIAS);
      g[i] = pairs[2 * i + 1];
    }
    *gid = g;
    *step = s;
    *n = (size_t)m;
  } else {
    free(g);
    free(s);
  }
  free(pairs);
  return st;
}

/* The int64 attribute name of the file into *v. */
static int get_i64_attr(hid_t f, const char *name, int64_t *v) {
  hid_t a = H5Aopen(f, name, H5P_DEFAULT);
  herr_t e = a < 0 ? -1 : H5Aread(a, H5T_NATIVE_INT64, v);
  if (a >= 0)
    H5Aclose(a);
  char what[64];
  snprintf(what, sizeof what, "reading attribute %s", name);
  H5_TRY(e, what);
  return CL_OK;
}

static int read_body(ckpt *k, const cl_config *cfg, cl_network *net, cl_stimuli *stim,
                     cl_checkpoint_counts *c, uint64_t **gid, int64_t **step, size_t *n, int fork) {
  hid_t f = k->file;
  CL_CALL(get_i64_attr(f, "step", &c->step));
  /* the step the run's output files begin at (every checkpoint of format 2 has it) */
  CL_CALL(get_i64_attr(f, "first_step", &c->first_step));
  /* a run from another run's state has an output of its own: none of the files' counts */
  c->n_spike_files = fork ? 0 : n_spike_files(cfg);
  c->n_reports = fork ? 0 : n_report_files(cfg);
  c->spike_count = cl_calloc(cfg->n_populations + 1, sizeof *c->spike_count);
  c->spikes = cl_calloc(c->n_spike_files + 1, sizeof *c->spikes);
  c->spike_t_max = cl_calloc(c->n_spike_files + 1, sizeof *c->spike_t_max);
  c->rows = cl_calloc(c->n_reports + 1, sizeof *c->rows);
  int st = c->spike_count && c->spikes && c->spike_t_max && c->rows ? CL_OK : CL_ERR_MEM;
  CL_CALL(cl_error_agree(k->comm, st));

  st = io_populations(k, net, c->spike_count, 0);
  if (st == CL_OK)
    st = io_stimuli(k, stim, 0, fork);
  CL_CALL(st);

  if (!fork) {
    st = get_all(k, f, "output/spikes", H5T_NATIVE_UINT64, c->n_spike_files, c->spikes);
    if ((st = cl_error_agree(k->comm, st)) == CL_OK)
      st = get_all(k, f, "output/spike_t_max", H5T_NATIVE_DOUBLE, c->n_spike_files, c->spike_t_max);
    if ((st = cl_error_agree(k->comm, st)) == CL_OK)
      st = get_all(k, f, "output/report_rows", H5T_NATIVE_UINT64, c->n_reports, c->rows);
    CL_CALL(cl_error_agree(k->comm, st));
  }
  return read_transit(k, gid, step, n);
}

int cl_checkpoint_read(const char *path, const cl_config *cfg, cl_network *net, cl_stimuli *st,
                       cl_checkpoint_counts *c, uint64_t **gid, int64_t **step, size_t *n, int fork,
                       MPI_Comm comm) {
  memset(c, 0, sizeof *c);
  *gid = NULL;
  *step = NULL;
  *n = 0;
  ckpt k;
  int status = cl_error_agree(comm, ckpt_init(&k, comm));
  if (status == CL_OK) {
    H5E_auto2_t efunc;
    void *edata;
    H5Eget_auto2(H5E_DEFAULT, &efunc, &edata);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    k.file = H5Fopen(path, H5F_ACC_RDONLY, k.fapl);
    status = cl_error_agree(comm, k.file < 0 ? H5FAIL(path) : CL_OK);
    if (status == CL_OK)
      status = read_body(&k, cfg, net, st, c, gid, step, n, fork);
    status = cl_error_agree(comm, ckpt_close(&k, status));
    H5Eset_auto2(H5E_DEFAULT, efunc, edata);
  } else {
    ckpt_close(&k, status);
  }
  if (status != CL_OK) {
    cl_checkpoint_counts_free(c);
    free(*gid);
    free(*step);
    *gid = NULL;
    *step = NULL;
  }
  return status;
}
