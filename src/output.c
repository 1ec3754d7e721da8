/* Run output with parallel HDF5 (layout: output.h and DESIGN.md §4).
 *
 * Decisions that the layout leaves open:
 *
 * - Run directory. Rank 0 checks it and creates it with its parents. The files are first
 *   created under temporary names (".<name>.partial") and renamed into place by rank 0 only
 *   once every file was created on every rank, so a failed open leaves the files of an earlier
 *   run as they were (short of a rename that fails after others succeeded); the directories
 *   and temporary files it created are removed again on failure. With force, the files of this
 *   run replace those of the same name; other files in the directory are left alone.
 *
 * - Spike order. Each flush sorts the spikes it appends by (time, node id) over all ranks: a
 *   sample sort (splitters from regularly spaced samples of every rank's buffer, one
 *   MPI_Alltoallv, then a radix sort on each rank), after which rank r's block precedes rank
 *   r+1's. As long as every flush holds no spike earlier than the latest one already written,
 *   the whole dataset is sorted by time and `sorting` says "by_time"; otherwise it is set to
 *   "none" for good. A population that stays "by_time" thus holds its spikes ordered by
 *   (time, node id), the same bytes whatever the rank count and the flush points. `sorting` is
 *   an HDF5 enum {none = 0, by_id = 1, by_time = 2} on int8, as libsonata reads it.
 *
 * - Report columns. The columns of data are the recorded node ids in ascending order over all
 *   ranks (mapping/node_ids is sorted and carries the attribute sorted = 1). At each flush the
 *   buffered samples are redistributed (one MPI_Alltoallv) so that rank r holds a contiguous
 *   block of about n_recorded/P columns, which it writes as one regular hyperslab. data grows
 *   along time at each flush (chunked, extendible), and mapping/time = [start, stop, step]
 *   with stop = start + rows written * step (exclusive), so the file is consistent after
 *   every flush.
 *
 * - Edges. edges.h5 holds one SONATA edge population per projection that records its
 *   synapses, with datasets of their final size created at open (contiguous, so any rank can
 *   write any rows): the caller writes each row once (cl_output_write_edges) and closes the
 *   file (cl_output_edges_done) before the run starts.
 *
 * - Run metadata: group /condlif in spikes.h5 (see cl_output_write_meta). */
#include "condlif/output.h"

#include <errno.h>
#include <float.h>
#include <hdf5.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "condlif/error.h"
#include "condlif/fsutil.h"
#include "condlif/h5util.h"

#define SPIKES_FILE "spikes.h5"
#define EDGES_FILE "edges.h5"
#define SONATA_MAGIC 0x0A7Au
#define NAME_MAX_LEN 255
/* 64 Ki elements per chunk of timestamps and node_ids (512 KiB). */
#define SPIKE_CHUNK ((hsize_t)1 << 16)
/* About 1 MiB per chunk of report data, at most 4096 columns wide. */
#define REPORT_CHUNK_FLOATS ((hsize_t)1 << 18)
#define REPORT_CHUNK_COLS ((hsize_t)4096)
#define SPIKE_CAP_MIN 4096
#define SPIKE_CAP_RESERVE_MIN 256 /* records reserved at open per population at least (4 KB) */
#define SAMPLE_ROWS_MIN 16
/* Splitter samples taken from each rank's buffer per flush. */
#define SAMPLES_PER_RANK 64
#define RADIX_BITS 11
#define RADIX_BUCKETS (1u << RADIX_BITS)
#define RADIX_PASSES 6 /* per 64-bit word */

enum { SORT_NONE = 0, SORT_BY_ID = 1, SORT_BY_TIME = 2 };

/* A buffered spike: its time as an order-preserving unsigned key, and its node id. */
typedef struct {
  uint64_t key;
  uint64_t id;
} spike_rec;

typedef struct {
  char *name;
  uint64_t size;
  uint64_t n_recorded; /* neurons whose spikes are recorded */
  spike_rec *buf;      /* spikes added since the last flush */
  size_t n, cap;
  hid_t group, ds_times, ds_ids;
  uint64_t n_written; /* spikes in the file */
  uint64_t key_max;   /* largest time key in the file (when n_written > 0) */
  int sorting;        /* SORT_BY_TIME or SORT_NONE */
} spike_pop;

typedef struct {
  char *name, *source, *target, *receptor, *rule;
  int by_source;
  int64_t type_id;
  uint64_t n;
} edge_pop;

typedef struct {
  char *file_stem, *population, *variable, *units;
  double t_start, dt; /* ms */
  uint64_t n_times;
  uint64_t n_local;      /* columns recorded on this rank */
  uint64_t n_total;      /* columns over all ranks */
  uint64_t col0, n_mine; /* the block of global columns this rank writes */
  float *buf;            /* samples since the last flush: rows x n_local, row-major */
  size_t rows, cap_rows;
  uint64_t rows_written;
  int *send_cols;        /* [P] local columns for each rank (consecutive, in order) */
  int *recv_cols;        /* [P] columns of my block held by each rank */
  uint64_t *recv_before; /* [P] columns of my block held by lower ranks */
  int *col_src;          /* [n_mine] rank holding each column of my block */
  uint64_t *col_pos;     /* [n_mine] its index among that rank's columns in my block */
  uint64_t *sorted_ids;  /* [n_total] on rank 0 until the file is created, else NULL */
  hid_t file, ds_data, ds_time;
} report;

struct cl_output {
  MPI_Comm comm;
  int rank, size;
  char *dir;
  MPI_Datatype rec_type;
  hid_t fapl, dxpl;
  hid_t dxpl_ind; /* independent transfers: edge rows and spike appends, one contiguous block per
                   * rank */
  hid_t spikes_file;
  size_t n_pops;
  spike_pop *pops;
  size_t n_reports;
  report *reports;
  size_t n_edges;
  edge_pop *edges;
  hid_t edges_file; /* open from cl_output_open to cl_output_edges_done */
  /* Scratch space reused by every flush. */
  void *aux[2];
  size_t aux_cap[2]; /* bytes */
  spike_rec *samples;
  size_t samples_cap;
  size_t *hist;      /* 2 * RADIX_PASSES * RADIX_BUCKETS */
  uint64_t *summary; /* 3 * P */
  spike_rec *split;  /* P - 1 splitters */
  int *counts;       /* 4 * P: send counts, send displacements, receive counts and displs */
  H5E_auto2_t saved_efunc;
  void *saved_edata;
};

/* ---- small helpers ---------------------------------------------------------------------- */

static char *dup_string(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = cl_malloc(n);
  if (d)
    memcpy(d, s, n);
  return d;
}

/* Ensures scratch buffer i holds at least bytes; grows geometrically. */
static int aux_reserve(cl_output *o, int i, size_t bytes) {
  if (o->aux_cap[i] >= bytes)
    return CL_OK;
  size_t cap = o->aux_cap[i] * 2 > bytes ? o->aux_cap[i] * 2 : bytes;
  void *p = cl_realloc_prefault(o->aux[i], cap);
  CL_ALLOC_CHECK(p);
  o->aux[i] = p;
  o->aux_cap[i] = cap;
  return CL_OK;
}

static int fits_int(uint64_t v) {
  return v <= (uint64_t)INT_MAX;
}

/* Order-preserving map of a double onto uint64 (negative numbers below positive ones). */
static inline uint64_t time_key(double t) {
  uint64_t u;
  memcpy(&u, &t, sizeof u);
  return u ^ ((UINT64_C(0) - (u >> 63)) | UINT64_C(0x8000000000000000)); /* all ones if negative */
}
static inline double key_time(uint64_t k) {
  uint64_t u = k ^ (((k >> 63) - 1) | UINT64_C(0x8000000000000000));
  double t;
  memcpy(&t, &u, sizeof t);
  return t;
}

static inline int rec_less(const spike_rec *a, const spike_rec *b) {
  return a->key < b->key || (a->key == b->key && a->id < b->id);
}
static int rec_cmp(const void *pa, const void *pb) {
  const spike_rec *a = pa, *b = pb;
  return rec_less(a, b) ? -1 : rec_less(b, a) ? 1 : 0;
}

/* Insertion sort of a[0..n) by (key, id) for input that is nearly in order; gives up, returning
 * 0, once it has moved more than 8 n records (a is then still a permutation of its input). */
static int insertion_sort(spike_rec *a, size_t n) {
  size_t moves = 0;
  for (size_t i = 1; i < n; i++) {
    if (!rec_less(&a[i], &a[i - 1]))
      continue;
    spike_rec x = a[i];
    size_t j = i;
    do {
      a[j] = a[j - 1];
      j--;
    } while (j > 0 && rec_less(&x, &a[j - 1]));
    a[j] = x;
    moves += i - j;
    if (moves > 8 * n)
      return 0;
  }
  return 1;
}

/* Sorts a[0..n) by (key, id); tmp holds n records. Returns a or tmp, whichever holds the result.
 * descents = #{i : a[i] < a[i - 1]}. A rank's spikes arrive step by step, so its buffer is in
 * time order up to the order within each step: with groups of k spikes in random order, about
 * n (k - 1) / (2 k) descents and n (k - 1) / 4 inversions, each one move of an insertion sort.
 * Up to k = 8 (descents <= 7 n / 16) insertion sort is the faster (small networks, a few spikes
 * per step: 28 000 records, 0.8 -> 0.2 ms); otherwise, or when it meets more disorder than that,
 * an LSD radix sort, 11 bits per pass, skipping passes in which every element has the same
 * digit. */
static spike_rec *sort_spikes(spike_rec *a, spike_rec *tmp, size_t n, size_t descents,
                              size_t *hist) {
  size_t i;
  if (16 * descents <= 7 * n && insertion_sort(a, n))
    return a;
  memset(hist, 0, sizeof *hist * 2 * RADIX_PASSES * RADIX_BUCKETS);
  for (i = 0; i < n; i++) {
    for (int p = 0; p < RADIX_PASSES; p++) {
      hist[p * RADIX_BUCKETS + ((a[i].id >> (p * RADIX_BITS)) & (RADIX_BUCKETS - 1))]++;
      hist[(RADIX_PASSES + p) * RADIX_BUCKETS +
           ((a[i].key >> (p * RADIX_BITS)) & (RADIX_BUCKETS - 1))]++;
    }
  }
  for (int pass = 0; pass < 2 * RADIX_PASSES; pass++) {
    size_t *h = hist + (size_t)pass * RADIX_BUCKETS;
    int by_key = pass >= RADIX_PASSES;
    int shift = (pass % RADIX_PASSES) * RADIX_BITS;
    uint64_t d0 = ((by_key ? a[0].key : a[0].id) >> shift) & (RADIX_BUCKETS - 1);
    if (h[d0] == n)
      continue;
    size_t sum = 0;
    for (unsigned b = 0; b < RADIX_BUCKETS; b++) {
      size_t c = h[b];
      h[b] = sum;
      sum += c;
    }
    if (by_key) {
      for (i = 0; i < n; i++)
        tmp[h[(a[i].key >> shift) & (RADIX_BUCKETS - 1)]++] = a[i];
    } else {
      for (i = 0; i < n; i++)
        tmp[h[(a[i].id >> shift) & (RADIX_BUCKETS - 1)]++] = a[i];
    }
    spike_rec *t = a;
    a = tmp;
    tmp = t;
  }
  return a;
}

static uint64_t fnv_bytes(uint64_t h, const void *p, size_t n) {
  const unsigned char *c = p;
  for (size_t i = 0; i < n; i++) {
    h ^= c[i];
    h *= UINT64_C(0x100000001b3);
  }
  return h;
}
static uint64_t fnv_str(uint64_t h, const char *s) {
  return fnv_bytes(h, s, strlen(s) + 1);
}

/* ---- validation ------------------------------------------------------------------------- */

/* A name usable as an HDF5 link name and as part of a file name. */
static int valid_name(const char *s) {
  if (!s || !s[0] || strlen(s) > NAME_MAX_LEN || s[0] == '.')
    return 0;
  for (const char *c = s; *c; c++)
    if (*c == '/' || *c < 0x21 || *c > 0x7e)
      return 0;
  return 1;
}

static int validate_desc(const cl_output_desc *d) {
  if (!d || !d->dir || !d->dir[0])
    return CL_ERROR(CL_ERR_USER, "output: no run directory given");
  if (strlen(d->dir) + NAME_MAX_LEN + 32 > 4096)
    return CL_ERROR(CL_ERR_USER, "output: run directory name too long: %s", d->dir);
  if (d->n_spike_pops && !d->spike_pops)
    return CL_ERROR(CL_ERR_INTERNAL, "output: spike_pops is NULL");
  if (d->n_reports && !d->reports)
    return CL_ERROR(CL_ERR_INTERNAL, "output: reports is NULL");
  if (d->n_edges && !d->edges)
    return CL_ERROR(CL_ERR_INTERNAL, "output: edges is NULL");
  for (size_t i = 0; i < d->n_edges; i++) {
    const cl_output_edges *e = &d->edges[i];
    if (!valid_name(e->name) || !valid_name(e->source) || !valid_name(e->target))
      return CL_ERROR(CL_ERR_USER,
                      "output: invalid edge population or node population name '%s' ('%s', "
                      "'%s')",
                      e->name ? e->name : "(null)", e->source ? e->source : "(null)",
                      e->target ? e->target : "(null)");
    if (!e->receptor || !e->rule)
      return CL_ERROR(CL_ERR_INTERNAL, "output: edges '%s': receptor or rule missing", e->name);
    for (size_t j = 0; j < i; j++)
      if (strcmp(d->edges[j].name, e->name) == 0)
        return CL_ERROR(CL_ERR_USER, "output: edge population '%s' given twice", e->name);
  }
  for (size_t i = 0; i < d->n_spike_pops; i++) {
    const cl_output_spike_pop *p = &d->spike_pops[i];
    if (!valid_name(p->name))
      return CL_ERROR(CL_ERR_USER,
                      "output: invalid spike population name '%s' (printable ASCII without "
                      "'/' or spaces, not starting with '.', at most %d characters)",
                      p->name ? p->name : "(null)", NAME_MAX_LEN);
    for (size_t j = 0; j < i; j++)
      if (strcmp(d->spike_pops[j].name, p->name) == 0)
        return CL_ERROR(CL_ERR_USER, "output: spike population '%s' given twice", p->name);
  }
  for (size_t i = 0; i < d->n_reports; i++) {
    const cl_output_report *r = &d->reports[i];
    if (!valid_name(r->file_stem) || strcmp(r->file_stem, "spikes") == 0 ||
        strcmp(r->file_stem, "edges") == 0)
      return CL_ERROR(CL_ERR_USER,
                      "output: invalid report file name '%s' (printable ASCII without '/' or "
                      "spaces, not starting with '.', not 'spikes' or 'edges')",
                      r->file_stem ? r->file_stem : "(null)");
    for (size_t j = 0; j < i; j++)
      if (strcmp(d->reports[j].file_stem, r->file_stem) == 0)
        return CL_ERROR(CL_ERR_USER, "output: report file '%s.h5' given twice", r->file_stem);
    if (!valid_name(r->population))
      return CL_ERROR(CL_ERR_USER, "output: report '%s': invalid population name '%s'",
                      r->file_stem, r->population ? r->population : "(null)");
    if (!r->variable || !r->units)
      return CL_ERROR(CL_ERR_INTERNAL, "output: report '%s': variable or units missing",
                      r->file_stem);
    if (!(r->dt > 0) || !isfinite(r->dt) || !isfinite(r->t_start))
      return CL_ERROR(CL_ERR_USER,
                      "output: report '%s': sampling interval %g ms or start %g ms "
                      "invalid (need dt > 0)",
                      r->file_stem, r->dt, r->t_start);
    if (r->n_local && !r->local_node_ids)
      return CL_ERROR(CL_ERR_INTERNAL, "output: report '%s': local_node_ids is NULL", r->file_stem);
    if (!fits_int(r->n_local))
      return CL_ERROR(CL_ERR_USER, "output: report '%s': too many neurons on one rank",
                      r->file_stem);
    for (uint64_t k = 1; k < r->n_local; k++)
      if (r->local_node_ids[k] <= r->local_node_ids[k - 1])
        return CL_ERROR(CL_ERR_INTERNAL,
                        "output: report '%s': local node ids not strictly ascending (%llu "
                        "after %llu)",
                        r->file_stem, (unsigned long long)r->local_node_ids[k],
                        (unsigned long long)r->local_node_ids[k - 1]);
  }
  return CL_OK;
}

/* The descriptor must be the same on every rank (except the per-rank recorded ids): a
 * difference would make the collective HDF5 calls disagree, so it is an error. Collective. */
static int check_same_desc(MPI_Comm comm, const cl_output_desc *d) {
  uint64_t h = UINT64_C(0xcbf29ce484222325);
  h = fnv_str(h, d->dir);
  h = fnv_bytes(h, &d->force, sizeof d->force);
  h = fnv_bytes(h, &d->n_spike_pops, sizeof d->n_spike_pops);
  for (size_t i = 0; i < d->n_spike_pops; i++) {
    h = fnv_str(h, d->spike_pops[i].name);
    h = fnv_bytes(h, &d->spike_pops[i].size, sizeof d->spike_pops[i].size);
    h = fnv_bytes(h, &d->spike_pops[i].n_recorded, sizeof d->spike_pops[i].n_recorded);
  }
  h = fnv_bytes(h, &d->n_reports, sizeof d->n_reports);
  for (size_t i = 0; i < d->n_reports; i++) {
    const cl_output_report *r = &d->reports[i];
    h = fnv_str(fnv_str(fnv_str(fnv_str(h, r->file_stem), r->population), r->variable), r->units);
    h = fnv_bytes(h, &r->t_start, sizeof r->t_start);
    h = fnv_bytes(h, &r->dt, sizeof r->dt);
    h = fnv_bytes(h, &r->n_times, sizeof r->n_times);
  }
  const int resume = d->resume != NULL;
  h = fnv_bytes(h, &resume, sizeof resume);
  h = fnv_bytes(h, &d->n_edges, sizeof d->n_edges);
  for (size_t i = 0; i < d->n_edges; i++) {
    const cl_output_edges *e = &d->edges[i];
    h = fnv_str(fnv_str(fnv_str(h, e->name), e->source), e->target);
    h = fnv_str(fnv_str(h, e->receptor), e->rule);
    h = fnv_bytes(h, &e->by_source, sizeof e->by_source);
    h = fnv_bytes(h, &e->type_id, sizeof e->type_id);
    h = fnv_bytes(h, &e->n, sizeof e->n);
  }
  uint64_t mine[2] = {h, ~h}, max[2];
  MPI_Allreduce(mine, max, 2, MPI_UINT64_T, MPI_MAX, comm);
  int st = CL_OK;
  if (max[0] != mine[0] || max[1] != mine[1])
    st = CL_ERROR(CL_ERR_INTERNAL, "output: the output description differs between ranks");
  return cl_error_agree(comm, st);
}

/* ---- report plans ----------------------------------------------------------------------- */

typedef struct {
  uint64_t id;
  uint64_t src; /* rank */
} id_src;

static int id_src_cmp(const void *pa, const void *pb) {
  const id_src *a = pa, *b = pb;
  return a->id < b->id ? -1 : a->id > b->id ? 1 : 0;
}

/* First global column of rank r's block: floor(n r / size) without overflow. */
static uint64_t block_start(uint64_t n, int size, int r) {
  uint64_t q = n / (uint64_t)size, rem = n % (uint64_t)size;
  return q * (uint64_t)r + rem * (uint64_t)r / (uint64_t)size;
}

/* Gathers the recorded node ids of report r from every rank and works out which rank writes
 * which columns. Collective; returns the agreed status. */
static int plan_report(cl_output *o, report *r, const uint64_t *local_ids) {
  int P = o->size, st = CL_OK;
  uint64_t *n_of = cl_malloc(sizeof *n_of * P);
  int *cnt = cl_malloc(sizeof *cnt * P), *dsp = cl_malloc(sizeof *dsp * P);
  r->send_cols = cl_calloc(P, sizeof *r->send_cols);
  r->recv_cols = cl_calloc(P, sizeof *r->recv_cols);
  r->recv_before = cl_calloc(P, sizeof *r->recv_before);
  if (!n_of || !cnt || !dsp || !r->send_cols || !r->recv_cols || !r->recv_before)
    st = CL_ERR_MEM;
  if ((st = cl_error_agree(o->comm, st)) != CL_OK)
    goto done;
  MPI_Allgather(&r->n_local, 1, MPI_UINT64_T, n_of, 1, MPI_UINT64_T, o->comm);
  uint64_t total = 0;
  for (int s = 0; s < P; s++) {
    cnt[s] = (int)n_of[s];
    dsp[s] = (int)total;
    total += n_of[s];
  }
  r->n_total = total;
  if (total == 0)
    st = CL_ERROR(CL_ERR_USER, "output: report '%s' records no neuron", r->file_stem);
  else if (!fits_int(total))
    st = CL_ERROR(CL_ERR_USER, "output: report '%s' records too many neurons", r->file_stem);
  if ((st = cl_error_agree(o->comm, st)) != CL_OK)
    goto done;

  uint64_t *ids = cl_malloc(sizeof *ids * total);
  id_src *all = cl_malloc(sizeof *all * total);
  if (!ids || !all)
    st = CL_ERR_MEM;
  if ((st = cl_error_agree(o->comm, st)) != CL_OK) {
    free(ids);
    free(all);
    goto done;
  }
  MPI_Allgatherv(local_ids, (int)r->n_local, MPI_UINT64_T, ids, cnt, dsp, MPI_UINT64_T, o->comm);
  for (int s = 0; s < P; s++)
    for (uint64_t k = 0; k < n_of[s]; k++)
      all[dsp[s] + k] = (id_src){ids[dsp[s] + k], (uint64_t)s};
  qsort(all, total, sizeof *all, id_src_cmp);
  for (uint64_t g = 1; g < total && st == CL_OK; g++)
    if (all[g].id == all[g - 1].id)
      st = CL_ERROR(CL_ERR_USER, "output: report '%s': node %llu recorded on two ranks",
                    r->file_stem, (unsigned long long)all[g].id);

  /* My local columns in ascending id order are my entries of the sorted list, in order; each
   * goes to the rank whose block holds its global index. */
  int dest = 0;
  for (uint64_t g = 0; g < total && st == CL_OK; g++) {
    if (all[g].src != (uint64_t)o->rank)
      continue;
    while (dest + 1 < P && block_start(total, P, dest + 1) <= g)
      dest++;
    r->send_cols[dest]++;
  }
  r->col0 = block_start(total, P, o->rank);
  r->n_mine = block_start(total, P, o->rank + 1) - r->col0;
  r->col_src = cl_malloc(sizeof *r->col_src * (r->n_mine ? r->n_mine : 1));
  r->col_pos = cl_malloc(sizeof *r->col_pos * (r->n_mine ? r->n_mine : 1));
  if (!r->col_src || !r->col_pos)
    st = CL_ERR_MEM;
  if (st == CL_OK) {
    for (uint64_t c = 0; c < r->n_mine; c++) {
      int s = (int)all[r->col0 + c].src;
      r->col_src[c] = s;
      r->col_pos[c] = (uint64_t)r->recv_cols[s]++;
    }
    uint64_t before = 0;
    for (int s = 0; s < P; s++) {
      r->recv_before[s] = before;
      before += (uint64_t)r->recv_cols[s];
    }
  }
  if (st == CL_OK && o->rank == 0) {
    /* Rank 0 writes the mapping when it creates the file. */
    for (uint64_t g = 0; g < total; g++)
      ids[g] = all[g].id;
    r->sorted_ids = ids;
    ids = NULL;
  }
  free(ids);
  free(all);
  st = cl_error_agree(o->comm, st);
done:
  free(n_of);
  free(cnt);
  free(dsp);
  return st;
}

/* ---- HDF5 building blocks --------------------------------------------------------------- */

static hid_t sorting_type(void) {
  hid_t t = H5Tenum_create(H5T_NATIVE_SCHAR);
  if (t < 0)
    return t;
  const signed char v[3] = {SORT_NONE, SORT_BY_ID, SORT_BY_TIME};
  H5Tenum_insert(t, "none", &v[0]);
  H5Tenum_insert(t, "by_id", &v[1]);
  H5Tenum_insert(t, "by_time", &v[2]);
  return t;
}

static int write_sorting(hid_t group, int sorting, int create) {
  hid_t t = sorting_type();
  H5_TRY(t, "sorting type");
  signed char v = (signed char)sorting;
  int st = CL_OK;
  if (create) {
    st = cl_h5_attr_write(group, "sorting", t, t, 0, &v);
  } else {
    hid_t a = H5Aopen(group, "sorting", H5P_DEFAULT);
    if (a < 0 || H5Awrite(a, t, &v) < 0)
      st = H5FAIL("rewriting attribute sorting");
    if (a >= 0)
      H5Aclose(a);
  }
  H5Tclose(t);
  return st;
}

static int write_sonata_root_attrs(hid_t file) {
  unsigned magic = SONATA_MAGIC, version[2] = {0, 1};
  CL_CALL(cl_h5_attr_write(file, "magic", H5T_STD_U32LE, H5T_NATIVE_UINT, 0, &magic));
  CL_CALL(cl_h5_attr_write(file, "version", H5T_STD_U32LE, H5T_NATIVE_UINT, 2, version));
  return CL_OK;
}

/* Creates a chunked dataset of rank 1 or 2 whose first dimension starts at dims[0] and may grow
 * without bound. */
static hid_t create_extendible(hid_t loc, const char *name, hid_t type, int rank,
                               const hsize_t *dims, const hsize_t *chunk) {
  hsize_t max[2] = {H5S_UNLIMITED, rank > 1 ? dims[1] : 0};
  hid_t space = H5Screate_simple(rank, dims, max);
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  hid_t ds = H5I_INVALID_HID;
  if (space >= 0 && dcpl >= 0 && H5Pset_chunk(dcpl, rank, chunk) >= 0 &&
      H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER) >= 0)
    ds = H5Dcreate2(loc, name, type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  if (space >= 0)
    H5Sclose(space);
  if (dcpl >= 0)
    H5Pclose(dcpl);
  return ds;
}

/* Writes a whole small dataset from rank 0's buffer; the other ranks take part with an empty
 * selection. Collective. */
static int write_from_rank0(cl_output *o, hid_t ds, hid_t mem_type, const void *buf,
                            const char *what) {
  hid_t fs = H5Dget_space(ds);
  H5_TRY(fs, what);
  if (H5Sget_simple_extent_npoints(fs) == 0) {
    H5Sclose(fs); /* nothing to write (parallel HDF5 fails on empty writes) */
    return CL_OK;
  }
  hid_t ms = H5Scopy(fs);
  if (ms < 0) {
    H5Sclose(fs);
    return H5FAIL(what);
  }
  static const char dummy[16];
  if (o->rank != 0) {
    H5Sselect_none(fs);
    H5Sselect_none(ms);
    buf = dummy;
  }
  herr_t e = H5Dwrite(ds, mem_type, ms, fs, o->dxpl, buf);
  H5Sclose(ms);
  H5Sclose(fs);
  H5_TRY(e, what);
  return CL_OK;
}

/* Grows dataset ds to dims, then writes the block (cl_h5_block) with transfer list xfer.
 * Collective. */
static int append_block(hid_t xfer, hid_t ds, hid_t mem_type, int rank, const hsize_t *dims,
                        hsize_t start, hsize_t count, hsize_t col0, hsize_t cols, const void *buf,
                        const char *what) {
  H5_TRY(H5Dset_extent(ds, dims), what);
  return cl_h5_block(ds, xfer, mem_type, rank, start, count, col0, cols, (void *)buf, 1, what);
}

/* ---- file creation ---------------------------------------------------------------------- */

/* Creates the file at path with the SONATA root attributes and its top group (/spikes,
 * /report, /edges): *f and *top are valid when it returns CL_OK (*f also when not, if the
 * file was created; sonata_close closes both). */
static int sonata_create(cl_output *o, const char *path, const char *group, hid_t *f, hid_t *top) {
  *top = H5I_INVALID_HID;
  *f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, o->fapl);
  if (*f < 0)
    return H5FAIL(path);
  int st = write_sonata_root_attrs(*f);
  if (st == CL_OK && (*top = H5Gcreate2(*f, group, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0)
    st = H5FAIL(group);
  return st;
}

/* Closes top and f; returns st, or the failure to close f. */
static int sonata_close(const char *path, hid_t f, hid_t top, int st) {
  cl_h5_close(&top);
  if (f >= 0 && H5Fclose(f) < 0 && st == CL_OK)
    st = H5FAIL(path);
  return st;
}

static int create_spikes_file(cl_output *o, const char *path) {
  hid_t f, top;
  int st = sonata_create(o, path, "spikes", &f, &top);
  for (size_t i = 0; i < o->n_pops && st == CL_OK; i++) {
    spike_pop *p = &o->pops[i];
    hid_t g = H5Gcreate2(top, p->name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0) {
      st = H5FAIL(p->name);
      break;
    }
    hsize_t zero = 0, chunk = SPIKE_CHUNK;
    hid_t dt = create_extendible(g, "timestamps", H5T_IEEE_F64LE, 1, &zero, &chunk);
    hid_t di = create_extendible(g, "node_ids", H5T_STD_U64LE, 1, &zero, &chunk);
    if (dt < 0 || di < 0)
      st = H5FAIL("creating the spike datasets");
    if (st == CL_OK)
      st = write_sorting(g, SORT_BY_TIME, 1);
    if (st == CL_OK)
      st = cl_h5_attr_write(g, "recorded_nodes", H5T_STD_U64LE, H5T_NATIVE_UINT64, 0,
                            &p->n_recorded);
    if (st == CL_OK)
      st = cl_h5_attr_string(dt, "units", "ms");
    if (dt >= 0)
      H5Dclose(dt);
    if (di >= 0)
      H5Dclose(di);
    H5Gclose(g);
  }
  return sonata_close(path, f, top, st);
}

static int create_report_file(cl_output *o, report *r, const char *path) {
  hid_t f, top, pop = -1, map = -1, data = -1, ds = -1;
  int st = sonata_create(o, path, "report", &f, &top);
  if (st == CL_OK) {
    pop = H5Gcreate2(top, r->population, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    map = pop < 0 ? -1 : H5Gcreate2(pop, "mapping", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (map < 0)
      st = H5FAIL("creating /report/<population>/mapping");
  }
  if (st == CL_OK) {
    hsize_t cols = r->n_total < REPORT_CHUNK_COLS ? r->n_total : REPORT_CHUNK_COLS;
    hsize_t rows = REPORT_CHUNK_FLOATS / cols;
    if (r->n_times && rows > r->n_times)
      rows = r->n_times;
    if (rows < 1)
      rows = 1;
    hsize_t dims[2] = {0, r->n_total}, chunk[2] = {rows, cols};
    data = create_extendible(pop, "data", H5T_IEEE_F32LE, 2, dims, chunk);
    if (data < 0)
      st = H5FAIL("creating report data");
  }
  if (st == CL_OK)
    st = cl_h5_attr_string(data, "units", r->units);
  if (st == CL_OK)
    st = cl_h5_attr_string(data, "variable", r->variable);
  /* Mapping: written by rank 0, which holds the sorted ids. */
  uint64_t n = r->n_total;
  uint64_t *u64 = NULL;
  uint32_t *u32 = NULL;
  if (st == CL_OK && o->rank == 0) {
    u64 = cl_malloc(sizeof *u64 * (n + 1));
    u32 = cl_calloc(n, sizeof *u32);
    if (!u64 || !u32)
      st = CL_ERR_MEM;
  }
  st = cl_error_agree(o->comm, st);
  struct {
    const char *name;
    hid_t type, mem;
    hsize_t len;
  } m[4] = {{"node_ids", H5T_STD_U64LE, H5T_NATIVE_UINT64, n},
            {"index_pointers", H5T_STD_U64LE, H5T_NATIVE_UINT64, n + 1},
            {"element_ids", H5T_STD_U32LE, H5T_NATIVE_UINT32, n},
            {"time", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 3}};
  double time[3] = {r->t_start, r->t_start, r->dt};
  for (int k = 0; k < 4 && st == CL_OK; k++) {
    hid_t space = H5Screate_simple(1, &m[k].len, NULL);
    ds = space < 0
             ? -1
             : H5Dcreate2(map, m[k].name, m[k].type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (space >= 0)
      H5Sclose(space);
    if (ds < 0) {
      st = H5FAIL(m[k].name);
      break;
    }
    const void *buf = NULL;
    if (o->rank == 0) {
      if (k == 0) {
        buf = r->sorted_ids;
      } else if (k == 1) {
        for (uint64_t i = 0; i <= n; i++)
          u64[i] = i;
        buf = u64;
      } else if (k == 2) {
        buf = u32;
      } else {
        buf = time;
      }
    }
    st = write_from_rank0(o, ds, m[k].mem, buf, m[k].name);
    if (st == CL_OK && k == 0) {
      unsigned char sorted = 1;
      st = cl_h5_attr_write(ds, "sorted", H5T_STD_U8LE, H5T_NATIVE_UCHAR, 0, &sorted);
    }
    if (st == CL_OK && k == 3)
      st = cl_h5_attr_string(ds, "units", "ms");
    H5Dclose(ds);
    ds = -1;
  }
  free(u64);
  free(u32);
  hid_t ids[3] = {data, map, pop};
  for (int k = 0; k < 3; k++)
    cl_h5_close(&ids[k]);
  return sonata_close(path, f, top, st);
}

/* The datasets of an edge population, in the order of edge_ds_names (the last two in group 0). */
enum {
  EDGE_SOURCE,
  EDGE_TARGET,
  EDGE_TYPE,
  EDGE_GROUP,
  EDGE_INDEX,
  EDGE_WEIGHT,
  EDGE_DELAY,
  EDGE_NDS
};
static const char *const edge_ds_names[EDGE_NDS] = {
    "source_node_id",   "target_node_id", "edge_type_id", "edge_group_id",
    "edge_group_index", "0/syn_weight",   "0/delay"};

static hid_t edge_ds_type(int k) {
  switch (k) {
  case EDGE_TYPE:
    return H5T_STD_I64LE;
  case EDGE_GROUP:
    return H5T_STD_U32LE;
  case EDGE_WEIGHT:
  case EDGE_DELAY:
    return H5T_IEEE_F64LE;
  default:
    return H5T_STD_U64LE;
  }
}

/* /edges/<name> with its datasets at their final size, contiguous and allocated at once. */
static int create_edge_pop(hid_t top, const edge_pop *e) {
  hid_t g = H5Gcreate2(top, e->name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  if (g < 0)
    return H5FAIL(e->name);
  hid_t g0 = H5Gcreate2(g, "0", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  hsize_t n = e->n;
  hid_t space = H5Screate_simple(1, &n, NULL);
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  int st = g0 >= 0 && space >= 0 && dcpl >= 0 && H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER) >= 0 &&
                   H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY) >= 0
               ? CL_OK
               : H5FAIL("creating an edge population");
  for (int k = 0; k < EDGE_NDS && st == CL_OK; k++) {
    hid_t ds =
        H5Dcreate2(g, edge_ds_names[k], edge_ds_type(k), space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (ds < 0) {
      st = H5FAIL(edge_ds_names[k]);
      break;
    }
    if (k == EDGE_SOURCE || k == EDGE_TARGET)
      st = cl_h5_attr_string(ds, "node_population", k == EDGE_SOURCE ? e->source : e->target);
    else if (k == EDGE_WEIGHT)
      st = cl_h5_attr_string(ds, "units", "nS");
    else if (k == EDGE_DELAY)
      st = cl_h5_attr_string(ds, "units", "ms");
    H5Dclose(ds);
  }
  if (st == CL_OK)
    st = cl_h5_attr_string(g, "receptor", e->receptor);
  if (st == CL_OK)
    st = cl_h5_attr_string(g, "rule", e->rule);
  if (st == CL_OK)
    st = cl_h5_attr_string(g, "sorting", e->by_source ? "by_source" : "by_target");
  if (dcpl >= 0)
    H5Pclose(dcpl);
  if (space >= 0)
    H5Sclose(space);
  if (g0 >= 0)
    H5Gclose(g0);
  H5Gclose(g);
  return st;
}

static int create_edges_file(cl_output *o, const char *path) {
  hid_t f, top;
  int st = sonata_create(o, path, "edges", &f, &top);
  for (size_t i = 0; i < o->n_edges && st == CL_OK; i++)
    st = create_edge_pop(top, &o->edges[i]);
  return sonata_close(path, f, top, st);
}

/* The name of the i-th file of the run: spikes.h5, the reports, then edges.h5 if any. */
static size_t n_files(const cl_output *o) {
  return 1 + o->n_reports + (o->n_edges > 0);
}
static void file_name(const cl_output *o, size_t i, char *buf, size_t len) {
  if (i == 0)
    snprintf(buf, len, "%s", SPIKES_FILE);
  else if (i <= o->n_reports)
    snprintf(buf, len, "%s.h5", o->reports[i - 1].file_stem);
  else
    snprintf(buf, len, "%s", EDGES_FILE);
}

static int open_files(cl_output *o, char *path, size_t path_len) {
  snprintf(path, path_len, "%s/%s", o->dir, SPIKES_FILE);
  o->spikes_file = H5Fopen(path, H5F_ACC_RDWR, o->fapl);
  if (o->spikes_file < 0)
    return H5FAIL(path);
  for (size_t i = 0; i < o->n_pops; i++) {
    spike_pop *p = &o->pops[i];
    snprintf(path, path_len, "/spikes/%s", p->name);
    p->group = H5Gopen2(o->spikes_file, path, H5P_DEFAULT);
    if (p->group < 0)
      return H5FAIL(path);
    p->ds_times = H5Dopen2(p->group, "timestamps", H5P_DEFAULT);
    p->ds_ids = H5Dopen2(p->group, "node_ids", H5P_DEFAULT);
    if (p->ds_times < 0 || p->ds_ids < 0)
      return H5FAIL(path);
  }
  for (size_t i = 0; i < o->n_reports; i++) {
    report *r = &o->reports[i];
    snprintf(path, path_len, "%s/%s.h5", o->dir, r->file_stem);
    r->file = H5Fopen(path, H5F_ACC_RDWR, o->fapl);
    if (r->file < 0)
      return H5FAIL(path);
    snprintf(path, path_len, "/report/%s/data", r->population);
    r->ds_data = H5Dopen2(r->file, path, H5P_DEFAULT);
    snprintf(path, path_len, "/report/%s/mapping/time", r->population);
    r->ds_time = H5Dopen2(r->file, path, H5P_DEFAULT);
    if (r->ds_data < 0 || r->ds_time < 0)
      return H5FAIL(path);
  }
  if (o->n_edges > 0) {
    snprintf(path, path_len, "%s/%s", o->dir, EDGES_FILE);
    o->edges_file = H5Fopen(path, H5F_ACC_RDWR, o->fapl);
    if (o->edges_file < 0)
      return H5FAIL(path);
  }
  return CL_OK;
}

/* ---- open / close ----------------------------------------------------------------------- */

static void destroy(cl_output *o) {
  if (!o)
    return;
  for (size_t i = 0; i < o->n_pops; i++) {
    spike_pop *p = &o->pops[i];
    cl_h5_close(&p->ds_times);
    cl_h5_close(&p->ds_ids);
    cl_h5_close(&p->group);
    free(p->name);
    free(p->buf);
  }
  for (size_t i = 0; i < o->n_reports; i++) {
    report *r = &o->reports[i];
    cl_h5_close(&r->ds_data);
    cl_h5_close(&r->ds_time);
    cl_h5_close(&r->file);
    free(r->file_stem);
    free(r->population);
    free(r->variable);
    free(r->units);
    free(r->buf);
    free(r->send_cols);
    free(r->recv_cols);
    free(r->recv_before);
    free(r->col_src);
    free(r->col_pos);
    free(r->sorted_ids);
  }
  for (size_t i = 0; i < o->n_edges; i++) {
    edge_pop *e = &o->edges[i];
    free(e->name);
    free(e->source);
    free(e->target);
    free(e->receptor);
    free(e->rule);
  }
  free(o->edges);
  cl_h5_close(&o->edges_file);
  cl_h5_close(&o->spikes_file);
  cl_h5_close(&o->fapl);
  cl_h5_close(&o->dxpl);
  cl_h5_close(&o->dxpl_ind);
  free(o->pops);
  free(o->reports);
  free(o->dir);
  free(o->aux[0]);
  free(o->aux[1]);
  free(o->samples);
  free(o->hist);
  free(o->summary);
  free(o->counts);
  free(o->split);
  if (o->rec_type != MPI_DATATYPE_NULL)
    MPI_Type_free(&o->rec_type);
  if (o->comm != MPI_COMM_NULL)
    MPI_Comm_free(&o->comm);
  H5Eset_auto2(H5E_DEFAULT, o->saved_efunc, o->saved_edata);
  free(o);
}

/* Allocates the handle and copies the descriptor. Local. */
static int init_handle(cl_output *o, const cl_output_desc *d) {
  o->dir = dup_string(d->dir);
  o->pops = cl_calloc(d->n_spike_pops, sizeof *o->pops);
  o->reports = cl_calloc(d->n_reports, sizeof *o->reports);
  o->hist = cl_malloc(sizeof *o->hist * 2 * RADIX_PASSES * RADIX_BUCKETS);
  o->summary = cl_malloc(sizeof *o->summary * 3 * o->size);
  o->counts = cl_malloc(sizeof *o->counts * 4 * o->size);
  o->split = cl_malloc(sizeof *o->split * o->size);
  if (!o->dir || !o->pops || !o->reports || !o->hist || !o->summary || !o->counts || !o->split)
    return CL_ERR_MEM;
  /* 196 KB that the first sort would otherwise fault in page by page, inside the time loop */
  cl_touch(o->hist, sizeof *o->hist * 2 * RADIX_PASSES * RADIX_BUCKETS);
  o->n_pops = d->n_spike_pops;
  uint64_t all = 0;
  for (size_t i = 0; i < o->n_pops; i++)
    all += d->spike_pops[i].size;
  size_t most = 0;
  for (size_t i = 0; i < o->n_pops; i++) {
    spike_pop *p = &o->pops[i];
    p->group = p->ds_times = p->ds_ids = H5I_INVALID_HID;
    p->name = dup_string(d->spike_pops[i].name);
    CL_ALLOC_CHECK(p->name);
    p->size = d->spike_pops[i].size;
    p->n_recorded = d->spike_pops[i].n_recorded ? d->spike_pops[i].n_recorded : p->size;
    p->sorting = SORT_BY_TIME;
    /* this population's share of the hint, with room for the slice that crosses it (at least
     * a page: many small populations reserve little in all) */
    double share = all ? (double)p->size / (double)all : 0.0;
    size_t cap = (size_t)(1.25 * share * (double)d->spike_buffer_bytes / sizeof *p->buf);
    if (d->spike_buffer_bytes && cap < SPIKE_CAP_RESERVE_MIN)
      cap = SPIKE_CAP_RESERVE_MIN;
    if (cap) {
      p->buf = cl_malloc(cap * sizeof *p->buf);
      CL_ALLOC_CHECK(p->buf);
      cl_touch(p->buf, cap * sizeof *p->buf);
      p->cap = cap;
      most = cap > most ? cap : most;
    }
  }
  /* the flush's scratch: a sorted copy of the largest buffer (and, on several ranks, the
   * records received for this rank's time range) */
  for (int i = 0; i < (o->size > 1 ? 2 : 1) && most; i++) {
    CL_CALL(aux_reserve(o, i, most * sizeof(spike_rec)));
    cl_touch(o->aux[i], o->aux_cap[i]);
  }
  o->n_reports = d->n_reports;
  for (size_t i = 0; i < o->n_reports; i++) {
    report *r = &o->reports[i];
    const cl_output_report *s = &d->reports[i];
    r->file = r->ds_data = r->ds_time = H5I_INVALID_HID;
    r->file_stem = dup_string(s->file_stem);
    r->population = dup_string(s->population);
    r->variable = dup_string(s->variable);
    r->units = dup_string(s->units);
    if (!r->file_stem || !r->population || !r->variable || !r->units)
      return CL_ERR_MEM;
    r->t_start = s->t_start;
    r->dt = s->dt;
    r->n_times = s->n_times;
    r->n_local = s->n_local;
  }
  o->edges = cl_calloc(d->n_edges + 1, sizeof *o->edges);
  CL_ALLOC_CHECK(o->edges);
  o->n_edges = d->n_edges;
  for (size_t i = 0; i < o->n_edges; i++) {
    edge_pop *e = &o->edges[i];
    const cl_output_edges *s = &d->edges[i];
    e->name = dup_string(s->name);
    e->source = dup_string(s->source);
    e->target = dup_string(s->target);
    e->receptor = dup_string(s->receptor);
    e->rule = dup_string(s->rule);
    if (!e->name || !e->source || !e->target || !e->receptor || !e->rule)
      return CL_ERR_MEM;
    e->by_source = s->by_source;
    e->type_id = s->type_id;
    e->n = s->n;
  }
  o->fapl = H5Pcreate(H5P_FILE_ACCESS);
  o->dxpl = H5Pcreate(H5P_DATASET_XFER);
  o->dxpl_ind = H5Pcreate(H5P_DATASET_XFER);
  if (o->fapl < 0 || o->dxpl < 0 || o->dxpl_ind < 0 ||
      H5Pset_fapl_mpio(o->fapl, o->comm, MPI_INFO_NULL) < 0 ||
      H5Pset_fclose_degree(o->fapl, H5F_CLOSE_STRONG) < 0 ||
      H5Pset_all_coll_metadata_ops(o->fapl, 1) < 0 || H5Pset_coll_metadata_write(o->fapl, 1) < 0 ||
      H5Pset_dxpl_mpio(o->dxpl, H5FD_MPIO_COLLECTIVE) < 0 ||
      H5Pset_dxpl_mpio(o->dxpl_ind, H5FD_MPIO_INDEPENDENT) < 0)
    return H5FAIL("setting up parallel file access");
  return CL_OK;
}

static int part_path(char *buf, size_t len, const char *dir, const char *name) {
  int n = snprintf(buf, len, "%s/.%s.partial", dir, name);
  return n > 0 && (size_t)n < len;
}

/* Rank 0: removes the temporary files of this open. */
static void remove_partials(cl_output *o, char *path, size_t len) {
  for (size_t i = 0; i < n_files(o); i++) {
    char name[NAME_MAX_LEN + 8];
    file_name(o, i, name, sizeof name);
    part_path(path, len, o->dir, name);
    unlink(path);
  }
}

/* Reads the int8 enum attribute sorting of a spike group. */
static int read_sorting(hid_t group, int *sorting) {
  hid_t t = sorting_type(), a = t < 0 ? -1 : H5Aopen(group, "sorting", H5P_DEFAULT);
  signed char v = SORT_NONE;
  herr_t e = a < 0 ? -1 : H5Aread(a, t, &v);
  if (a >= 0)
    H5Aclose(a);
  if (t >= 0)
    H5Tclose(t);
  H5_TRY(e, "reading attribute sorting");
  *sorting = v;
  return CL_OK;
}

/* The number of rows of ds (its first dimension) in *n, and its second in *cols if not NULL. */
static int ds_extent(hid_t ds, hsize_t *n, hsize_t *cols, const char *what) {
  hsize_t dims[2] = {0, 0};
  hid_t fs = H5Dget_space(ds);
  int nd = fs < 0 ? -1 : H5Sget_simple_extent_dims(fs, dims, NULL);
  if (fs >= 0)
    H5Sclose(fs);
  H5_TRY(nd, what);
  *n = dims[0];
  if (cols)
    *cols = nd > 1 ? dims[1] : 0;
  return CL_OK;
}

/* Writes mapping/time's stop (exclusive) after the rows written (rank 0). Collective. */
static int write_report_stop(cl_output *o, report *r);
static int append(cl_output *out, int durable);

/* Opens the files of a continued run and cuts them back to the checkpoint's sizes. A file
 * holding fewer spikes or samples than the checkpoint counted is not the one it was written
 * with: an error. The completed marker goes first, so that a continuation that fails midway
 * leaves a run marked incomplete (and --continue can start it again). Collective. */
static int open_resumed(cl_output *o, const cl_output_resume *res) {
  for (size_t i = 0; i < o->n_reports; i++) { /* the files exist: their mappings too */
    free(o->reports[i].sorted_ids);
    o->reports[i].sorted_ids = NULL;
  }
  size_t len = strlen(o->dir) + 2 * NAME_MAX_LEN + 64;
  char *path = cl_malloc(len);
  int st = path ? CL_OK : CL_ERR_MEM;
  if (st == CL_OK && o->rank == 0)
    for (size_t i = 0; i < n_files(o) && st == CL_OK; i++) {
      char name[NAME_MAX_LEN + 8];
      file_name(o, i, name, sizeof name);
      snprintf(path, len, "%s/%s", o->dir, name);
      struct stat sb;
      if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
        st = CL_ERROR(CL_ERR_USER,
                      "cannot continue the run in %s: %s is missing (the checkpoint's run wrote "
                      "it)",
                      o->dir, path);
    }
  if ((st = cl_error_agree(o->comm, st)) == CL_OK)
    st = cl_error_agree(o->comm, open_files(o, path, len));
  free(path);
  /* first every check, then the changes */
  for (size_t i = 0; i < o->n_pops && st == CL_OK; i++) {
    spike_pop *p = &o->pops[i];
    hsize_t n = 0;
    st = ds_extent(p->ds_times, &n, NULL, p->name);
    if (st == CL_OK && n < res->spikes[i])
      st = CL_ERROR(CL_ERR_USER,
                    "cannot continue the run in %s: spikes.h5 holds %llu spikes of %s, the "
                    "checkpoint counted %llu (the files are not those it was written with)",
                    o->dir, (unsigned long long)n, p->name, (unsigned long long)res->spikes[i]);
    if (st == CL_OK)
      st = read_sorting(p->group, &p->sorting);
    st = cl_error_agree(o->comm, st);
  }
  for (size_t i = 0; i < o->n_reports && st == CL_OK; i++) {
    report *r = &o->reports[i];
    hsize_t n = 0, cols = 0;
    st = ds_extent(r->ds_data, &n, &cols, r->file_stem);
    if (st == CL_OK && (n < res->rows[i] || cols != r->n_total))
      st = CL_ERROR(CL_ERR_USER,
                    "cannot continue the run in %s: %s.h5 holds %llu samples of %llu neurons, the "
                    "checkpoint counted %llu of %llu (the files are not those it was written with)",
                    o->dir, r->file_stem, (unsigned long long)n, (unsigned long long)cols,
                    (unsigned long long)res->rows[i], (unsigned long long)r->n_total);
    st = cl_error_agree(o->comm, st);
  }
  if (st == CL_OK) {
    /* (no /condlif at all after a run that was killed) */
    htri_t has = H5Lexists(o->spikes_file, "condlif", H5P_DEFAULT);
    if (has > 0)
      has = H5Aexists_by_name(o->spikes_file, "condlif", "completed", H5P_DEFAULT);
    if (has > 0 && H5Adelete_by_name(o->spikes_file, "condlif", "completed", H5P_DEFAULT) < 0)
      st = H5FAIL("removing the completed marker");
  }
  for (size_t i = 0; i < o->n_pops && (st = cl_error_agree(o->comm, st)) == CL_OK; i++) {
    spike_pop *p = &o->pops[i];
    hsize_t keep = res->spikes[i];
    if (H5Dset_extent(p->ds_times, &keep) < 0 || H5Dset_extent(p->ds_ids, &keep) < 0)
      st = H5FAIL("cutting the spikes back to the checkpoint");
    p->n_written = keep;
    p->key_max = keep ? time_key(res->spike_t_max[i]) : 0;
  }
  for (size_t i = 0; i < o->n_reports && (st = cl_error_agree(o->comm, st)) == CL_OK; i++) {
    report *r = &o->reports[i];
    hsize_t dims[2] = {res->rows[i], r->n_total};
    if (H5Dset_extent(r->ds_data, dims) < 0)
      st = H5FAIL("cutting a report back to the checkpoint");
    r->rows_written = dims[0];
    if ((st = cl_error_agree(o->comm, st)) == CL_OK)
      st = write_report_stop(o, r);
  }
  if ((st = cl_error_agree(o->comm, st)) == CL_OK)
    st = append(o, 1); /* nothing buffered: flushes the files as cut */
  return cl_error_agree(o->comm, st);
}

void cl_output_written(const cl_output *out, uint64_t *spikes, double *spike_t_max,
                       uint64_t *rows) {
  for (size_t i = 0; i < out->n_pops; i++) {
    spikes[i] = out->pops[i].n_written;
    spike_t_max[i] = spikes[i] ? key_time(out->pops[i].key_max) : 0.0;
  }
  for (size_t i = 0; i < out->n_reports; i++)
    rows[i] = out->reports[i].rows_written;
}

int cl_output_open(cl_output **out, MPI_Comm comm, const cl_output_desc *desc) {
  *out = NULL;
  int st = cl_error_agree(comm, validate_desc(desc));
  if (st != CL_OK)
    return st;
  if ((st = check_same_desc(comm, desc)) != CL_OK)
    return st;

  cl_output *o = cl_calloc(1, sizeof *o);
  st = o ? CL_OK : CL_ERR_MEM;
  if (cl_error_agree(comm, st) != CL_OK) {
    free(o);
    return CL_ERR_MEM;
  }
  o->comm = MPI_COMM_NULL;
  o->rec_type = MPI_DATATYPE_NULL;
  o->spikes_file = o->edges_file = o->fapl = o->dxpl = o->dxpl_ind = H5I_INVALID_HID;
  /* HDF5 failures are reported through cl_error; its own printing is off while open. */
  H5Eget_auto2(H5E_DEFAULT, &o->saved_efunc, &o->saved_edata);
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  MPI_Comm_dup(comm, &o->comm);
  MPI_Comm_rank(o->comm, &o->rank);
  MPI_Comm_size(o->comm, &o->size);
  MPI_Type_contiguous(2, MPI_UINT64_T, &o->rec_type);
  MPI_Type_commit(&o->rec_type);
  st = cl_error_agree(o->comm, init_handle(o, desc));
  for (size_t i = 0; i < o->n_reports && st == CL_OK; i++)
    st = plan_report(o, &o->reports[i], desc->reports[i].local_node_ids);
  if (st != CL_OK) {
    destroy(o);
    return st;
  }

  if (desc->resume) {
    st = open_resumed(o, desc->resume);
    if (st != CL_OK) {
      destroy(o);
      return st;
    }
    *out = o;
    return CL_OK;
  }

  /* Rank 0 checks and creates the run directory. */
  size_t path_len = strlen(o->dir) + 2 * NAME_MAX_LEN + 64;
  char *path = cl_malloc(path_len), *final = cl_malloc(path_len);
  int n_created = 0;
  st = path && final ? CL_OK : CL_ERR_MEM;
  if (st == CL_OK && o->rank == 0) {
    cl_fs_kind kind = cl_fsutil_kind(o->dir);
    if (kind == CL_FS_DIR && !desc->force)
      st = CL_ERROR(CL_ERR_USER,
                    "output directory %s already exists; refusing to overwrite a run "
                    "(use --force to replace its files)",
                    o->dir);
    else if (kind == CL_FS_OTHER)
      st = CL_ERROR(CL_ERR_USER, "output directory %s exists and is not a directory", o->dir);
    else if (kind == CL_FS_MISSING)
      st = cl_fsutil_mkdir_p(o->dir, &n_created);
    /* A file of this run may only replace a file, never a directory or the like. */
    for (size_t i = 0; kind == CL_FS_DIR && st == CL_OK && i < n_files(o); i++) {
      char name[NAME_MAX_LEN + 8];
      file_name(o, i, name, sizeof name);
      snprintf(final, path_len, "%s/%s", o->dir, name);
      struct stat sb;
      if (lstat(final, &sb) == 0 && !S_ISREG(sb.st_mode))
        st = CL_ERROR(CL_ERR_USER, "cannot replace %s: not a regular file", final);
    }
  }
  if ((st = cl_error_agree(o->comm, st)) != CL_OK)
    goto fail;

  /* Every file under a temporary name, then renamed into place by rank 0. */
  part_path(path, path_len, o->dir, SPIKES_FILE);
  st = create_spikes_file(o, path);
  for (size_t i = 0; i < o->n_reports && cl_error_agree(o->comm, st) == CL_OK; i++) {
    report *r = &o->reports[i];
    char name[NAME_MAX_LEN + 8];
    snprintf(name, sizeof name, "%s.h5", r->file_stem);
    part_path(path, path_len, o->dir, name);
    st = create_report_file(o, r, path);
    free(r->sorted_ids);
    r->sorted_ids = NULL;
  }
  if (o->n_edges > 0 && cl_error_agree(o->comm, st) == CL_OK) {
    part_path(path, path_len, o->dir, EDGES_FILE);
    st = create_edges_file(o, path);
  }
  if ((st = cl_error_agree(o->comm, st)) == CL_OK && o->rank == 0) {
    for (size_t i = 0; i < n_files(o) && st == CL_OK; i++) {
      char name[NAME_MAX_LEN + 8];
      file_name(o, i, name, sizeof name);
      part_path(path, path_len, o->dir, name);
      snprintf(final, path_len, "%s/%s", o->dir, name);
      if (rename(path, final) != 0)
        st = CL_ERROR(CL_ERR_IO, "cannot create %s: %s", final, strerror(errno));
    }
  }
  if ((st = cl_error_agree(o->comm, st)) != CL_OK) {
    if (o->rank == 0)
      remove_partials(o, path, path_len);
    goto fail;
  }
  n_created = 0; /* the run directory now holds this run's files: keep it from here on */
  st = cl_error_agree(o->comm, open_files(o, path, path_len));
  if (st != CL_OK)
    goto fail;
  free(path);
  free(final);
  *out = o;
  return CL_OK;

fail:
  if (o->rank == 0 && n_created > 0)
    cl_fsutil_remove_created(o->dir, n_created);
  free(path);
  free(final);
  destroy(o);
  return st;
}

/* ---- edges ------------------------------------------------------------------------------ */

int cl_output_write_edges(cl_output *out, size_t e, uint64_t start, size_t n,
                          const uint64_t *source, const uint64_t *target, const double *weight,
                          const double *delay) {
  int st = out->edges_file >= 0 && e < out->n_edges && start + n <= out->edges[e].n
               ? CL_OK
               : CL_ERROR(CL_ERR_INTERNAL,
                          "output: edge rows [%llu, %llu) of population %zu "
                          "out of range or edges.h5 closed",
                          (unsigned long long)start, (unsigned long long)(start + n), e);
  /* the columns that follow from the row: type, group 0, index within the group */
  if (st == CL_OK)
    st = aux_reserve(out, 0, (n ? n : 1) * sizeof(uint64_t));
  if ((st = cl_error_agree(out->comm, st)) != CL_OK)
    return st;
  const edge_pop *ep = &out->edges[e];
  hid_t g = H5Gopen2(out->edges_file, "edges", H5P_DEFAULT);
  hid_t pg = g < 0 ? -1 : H5Gopen2(g, ep->name, H5P_DEFAULT);
  st = pg < 0 ? H5FAIL(ep->name) : CL_OK;
  uint64_t *col = out->aux[0];
  for (int k = 0; k < EDGE_NDS && st == CL_OK; k++) {
    const void *buf = col;
    hid_t mem = H5T_NATIVE_UINT64;
    switch (k) {
    case EDGE_SOURCE:
      buf = source;
      break;
    case EDGE_TARGET:
      buf = target;
      break;
    case EDGE_TYPE:
      for (size_t i = 0; i < n; i++)
        ((int64_t *)col)[i] = ep->type_id;
      mem = H5T_NATIVE_INT64;
      break;
    case EDGE_GROUP:
      memset(col, 0, n * sizeof(uint32_t));
      mem = H5T_NATIVE_UINT32;
      break;
    case EDGE_INDEX:
      for (size_t i = 0; i < n; i++)
        col[i] = start + i;
      break;
    case EDGE_WEIGHT:
      buf = weight;
      mem = H5T_NATIVE_DOUBLE;
      break;
    default:
      buf = delay;
      mem = H5T_NATIVE_DOUBLE;
      break;
    }
    hid_t ds = H5Dopen2(pg, edge_ds_names[k], H5P_DEFAULT);
    if (ds < 0) {
      st = H5FAIL(edge_ds_names[k]);
      break;
    }
    st = cl_h5_block(ds, out->dxpl_ind, mem, 1, start, n, 0, 0, (void *)buf, 1, edge_ds_names[k]);
    H5Dclose(ds);
  }
  if (pg >= 0)
    H5Gclose(pg);
  if (g >= 0)
    H5Gclose(g);
  return cl_error_agree(out->comm, st);
}

int cl_output_edges_done(cl_output *out) {
  int st = CL_OK;
  if (out->edges_file >= 0 && H5Fclose(out->edges_file) < 0)
    st = H5FAIL(EDGES_FILE);
  out->edges_file = H5I_INVALID_HID;
  return cl_error_agree(out->comm, st);
}

/* ---- buffering -------------------------------------------------------------------------- */

int cl_output_add_spikes(cl_output *out, size_t pop, size_t n, const uint64_t *node_ids,
                         const double *times) {
  if (pop >= out->n_pops)
    return CL_ERROR(CL_ERR_INTERNAL, "output: spike population index %zu out of range (%zu)", pop,
                    out->n_pops);
  if (n == 0)
    return CL_OK;
  spike_pop *p = &out->pops[pop];
  int ok = 1;
  for (size_t i = 0; i < n; i++)
    ok &= (node_ids[i] < p->size) & (fabs(times[i]) <= DBL_MAX);
  if (!ok) {
    size_t i = 0;
    while (node_ids[i] < p->size && isfinite(times[i]))
      i++;
    return CL_ERROR(CL_ERR_INTERNAL,
                    "output: spike of node %llu at %g ms in population %s "
                    "(%llu neurons) is invalid",
                    (unsigned long long)node_ids[i], times[i], p->name,
                    (unsigned long long)p->size);
  }
  if (p->n + n > p->cap) {
    size_t cap = p->cap ? 2 * p->cap : SPIKE_CAP_MIN;
    while (cap < p->n + n)
      cap *= 2;
    spike_rec *b = cl_realloc_prefault(p->buf, sizeof *b * cap);
    CL_ALLOC_CHECK(b);
    p->buf = b;
    p->cap = cap;
  }
  spike_rec *dst = p->buf + p->n;
  for (size_t i = 0; i < n; i++) {
    dst[i].key = time_key(times[i]);
    dst[i].id = node_ids[i];
  }
  p->n += n;
  return CL_OK;
}

int cl_output_add_sample(cl_output *out, size_t r, const float *values) {
  if (r >= out->n_reports)
    return CL_ERROR(CL_ERR_INTERNAL, "output: report index %zu out of range (%zu)", r,
                    out->n_reports);
  report *rp = &out->reports[r];
  if (rp->n_times && rp->rows_written + rp->rows >= rp->n_times)
    return CL_ERROR(CL_ERR_INTERNAL, "output: report %s: more than the %llu samples announced",
                    rp->file_stem, (unsigned long long)rp->n_times);
  if (rp->n_local) {
    if (rp->rows == rp->cap_rows) {
      size_t cap = rp->cap_rows ? 2 * rp->cap_rows : SAMPLE_ROWS_MIN;
      float *b = cl_realloc_prefault(rp->buf, sizeof *b * cap * rp->n_local);
      CL_ALLOC_CHECK(b);
      rp->buf = b;
      rp->cap_rows = cap;
    }
    memcpy(rp->buf + rp->rows * rp->n_local, values, sizeof *values * rp->n_local);
  }
  rp->rows++;
  return CL_OK;
}

size_t cl_output_buffered_spike_bytes(const cl_output *out) {
  size_t b = 0;
  for (size_t i = 0; i < out->n_pops; i++)
    b += out->pops[i].n * sizeof(spike_rec);
  return b;
}

size_t cl_output_buffered_bytes(const cl_output *out) {
  size_t b = cl_output_buffered_spike_bytes(out);
  for (size_t i = 0; i < out->n_reports; i++)
    b += out->reports[i].rows * out->reports[i].n_local * sizeof(float);
  return b;
}

size_t cl_output_allocated_bytes(const cl_output *out) {
  size_t b = out->aux_cap[0] + out->aux_cap[1] + out->samples_cap * sizeof(spike_rec) +
             sizeof *out->hist * 2 * RADIX_PASSES * RADIX_BUCKETS;
  for (size_t i = 0; i < out->n_pops; i++)
    b += out->pops[i].cap * sizeof(spike_rec);
  for (size_t i = 0; i < out->n_reports; i++)
    b += out->reports[i].cap_rows * out->reports[i].n_local * sizeof(float);
  return b;
}

/* ---- flushing --------------------------------------------------------------------------- */

/* The rank a spike goes to: the number of splitters not greater than it. */
static int dest_of(const spike_rec *x, const spike_rec *split, int n_split) {
  int lo = 0, hi = n_split;
  while (lo < hi) {
    int mid = (lo + hi) / 2;
    if (rec_less(x, &split[mid]))
      hi = mid;
    else
      lo = mid + 1;
  }
  return lo;
}

/* Appends the buffered spikes of population p, sorted by (time, id) over all ranks. */
/* Sample sort across ranks: splitters from P-1 quantiles of regularly spaced samples of every
 * rank's (unsorted) buffer, then each rank sends every other the records of its time range.
 * Leaves this rank's *m_out records in o->aux[1] (o->aux[0] holds as many) and empties the
 * buffer. Collective. */
static int redistribute(cl_output *o, spike_pop *p, uint64_t n_samples, uint64_t *m_out) {
  int P = o->size;
  size_t n = p->n;
  int st = CL_OK;
  if (o->samples_cap < n_samples) {
    spike_rec *s = cl_realloc(o->samples, sizeof *s * n_samples);
    if (s) {
      o->samples = s;
      o->samples_cap = n_samples;
    } else {
      st = CL_ERR_MEM;
    }
  }
  if (st == CL_OK)
    st = aux_reserve(o, 0, sizeof(spike_rec) * n);
  if ((st = cl_error_agree(o->comm, st)) != CL_OK)
    return st;
  int *scnt = o->counts, *sdsp = o->counts + P, *rcnt = o->counts + 2 * P,
      *rdsp = o->counts + 3 * P;
  int my_samples = n < SAMPLES_PER_RANK ? (int)n : SAMPLES_PER_RANK;
  spike_rec local[SAMPLES_PER_RANK];
  for (int k = 0; k < my_samples; k++)
    local[k] = p->buf[(uint64_t)n * (uint64_t)k / (uint64_t)my_samples];
  int off = 0;
  for (int s = 0; s < P; s++) {
    uint64_t c = o->summary[3 * s];
    rcnt[s] = c < SAMPLES_PER_RANK ? (int)c : SAMPLES_PER_RANK;
    rdsp[s] = off;
    off += rcnt[s];
  }
  MPI_Allgatherv(local, my_samples, o->rec_type, o->samples, rcnt, rdsp, o->rec_type, o->comm);
  qsort(o->samples, n_samples, sizeof *o->samples, rec_cmp);
  spike_rec *split = o->split;
  for (int j = 0; j + 1 < P; j++)
    split[j] = o->samples[(size_t)n_samples * (unsigned)(j + 1) / (unsigned)P];

  /* Pack by destination, exchange. */
  for (int s = 0; s < P; s++)
    scnt[s] = 0;
  for (size_t i = 0; i < n; i++)
    scnt[dest_of(&p->buf[i], split, P - 1)]++;
  off = 0;
  for (int s = 0; s < P; s++) {
    sdsp[s] = off;
    off += scnt[s];
  }
  spike_rec *send = o->aux[0];
  for (size_t i = 0; i < n; i++)
    send[sdsp[dest_of(&p->buf[i], split, P - 1)]++] = p->buf[i];
  for (int s = 0; s < P; s++)
    sdsp[s] -= scnt[s];
  MPI_Alltoall(scnt, 1, MPI_INT, rcnt, 1, MPI_INT, o->comm);
  uint64_t m = 0;
  for (int s = 0; s < P; s++) {
    rdsp[s] = (int)m;
    m += (uint64_t)rcnt[s];
  }
  if (!fits_int(m))
    st = CL_ERROR(CL_ERR_INTERNAL, "output: too many spikes per rank in one flush");
  if (st == CL_OK)
    st = aux_reserve(o, 1, sizeof(spike_rec) * m);
  if (st == CL_OK)
    st = aux_reserve(o, 0, sizeof(spike_rec) * m);
  if ((st = cl_error_agree(o->comm, st)) != CL_OK)
    return st;
  send = o->aux[0];
  MPI_Alltoallv(send, scnt, sdsp, o->rec_type, o->aux[1], rcnt, rdsp, o->rec_type, o->comm);
  p->n = 0;
  *m_out = m;
  return CL_OK;
}

static int flush_spikes(cl_output *o, spike_pop *p) {
  int P = o->size;
  size_t n = p->n;
  uint64_t mine[3] = {n, UINT64_MAX, 0};
  size_t descents = 0; /* one rank: its buffer's order, for sort_spikes */
  for (size_t i = 0; i < n; i++) {
    mine[1] = p->buf[i].key < mine[1] ? p->buf[i].key : mine[1];
    mine[2] = p->buf[i].key > mine[2] ? p->buf[i].key : mine[2];
    descents += P == 1 && i > 0 && rec_less(&p->buf[i], &p->buf[i - 1]);
  }
  MPI_Allgather(mine, 3, MPI_UINT64_T, o->summary, 3, MPI_UINT64_T, o->comm);
  uint64_t total = 0, kmin = UINT64_MAX, kmax = 0, n_samples = 0;
  int st = CL_OK;
  for (int s = 0; s < P; s++) {
    const uint64_t *q = o->summary + 3 * s;
    total += q[0];
    kmin = q[0] && q[1] < kmin ? q[1] : kmin;
    kmax = q[0] && q[2] > kmax ? q[2] : kmax;
    n_samples += q[0] < SAMPLES_PER_RANK ? q[0] : SAMPLES_PER_RANK;
    if (!fits_int(q[0]))
      st = CL_ERROR(CL_ERR_INTERNAL, "output: too many spikes buffered between two flushes");
  }
  if (st != CL_OK || total == 0)
    return st; /* the same on every rank */

  if (p->sorting == SORT_BY_TIME && p->n_written > 0 && kmin < p->key_max) {
    p->sorting = SORT_NONE;
    st = write_sorting(p->group, SORT_NONE, 0);
    if ((st = cl_error_agree(o->comm, st)) != CL_OK)
      return st;
  }
  if (p->n_written == 0 || kmax > p->key_max)
    p->key_max = kmax;

  /* One rank sorts its buffer where it is; more ranks first redistribute by time range. */
  spike_rec *in = p->buf;
  uint64_t m = n;
  if (P == 1) {
    if ((st = cl_error_agree(o->comm, aux_reserve(o, 0, sizeof(spike_rec) * n))) != CL_OK)
      return st;
    p->n = 0;
  } else {
    if ((st = redistribute(o, p, n_samples, &m)) != CL_OK)
      return st;
    in = o->aux[1];
    descents = m; /* records from several ranks: no order to exploit */
  }
  spike_rec *sorted = sort_spikes(in, o->aux[0], m, descents, o->hist);
  void *other = sorted == in ? (void *)o->aux[0] : (void *)in;
  double *times = other;
  uint64_t *ids = (uint64_t *)other + m;
  for (uint64_t i = 0; i < m; i++) {
    times[i] = key_time(sorted[i].key);
    ids[i] = sorted[i].id;
  }
  uint64_t start = 0;
  MPI_Exscan(&m, &start, 1, MPI_UINT64_T, MPI_SUM, o->comm);
  if (o->rank == 0)
    start = 0;
  hsize_t dims = p->n_written + total;
  /* Each rank's records are one contiguous range of the file, which it writes by itself
   * (independent transfers, after the collective extension): collective MPI-IO only added its
   * own exchanges (COBA-alpha 200 000 on 2 ranks, 32 appends: 0.0114-0.0127 -> 0.0085-0.0090 s
   * in the writes per rank). */
  st = append_block(o->dxpl_ind, p->ds_times, H5T_NATIVE_DOUBLE, 1, &dims, p->n_written + start, m,
                    0, 0, times, "writing spike times");
  if ((st = cl_error_agree(o->comm, st)) != CL_OK)
    return st;
  st = append_block(o->dxpl_ind, p->ds_ids, H5T_NATIVE_UINT64, 1, &dims, p->n_written + start, m, 0,
                    0, ids, "writing spike node ids");
  if ((st = cl_error_agree(o->comm, st)) != CL_OK)
    return st;
  p->n_written += total;
  return CL_OK;
}

/* Appends the buffered samples of report r: each rank sends every other rank the columns of
 * that rank's block, then writes its block. */
static int flush_report(cl_output *o, report *r) {
  int P = o->size, st = CL_OK;
  int64_t k2[2] = {(int64_t)r->rows, -(int64_t)r->rows}, max[2];
  MPI_Allreduce(k2, max, 2, MPI_INT64_T, MPI_MAX, o->comm);
  if (max[0] != -max[1])
    return CL_ERROR(CL_ERR_INTERNAL,
                    "output: report %s: ranks buffered different numbers of "
                    "samples (%lld to %lld)",
                    r->file_stem, (long long)-max[1], (long long)max[0]);
  uint64_t k = r->rows;
  if (k == 0)
    return CL_OK;
  if (!fits_int(k * r->n_total))
    st =
        CL_ERROR(CL_ERR_INTERNAL, "output: report %s: too many samples in one flush", r->file_stem);
  if (st == CL_OK)
    st = aux_reserve(o, 0, sizeof(float) * k * (r->n_local > r->n_mine ? r->n_local : r->n_mine));
  if (st == CL_OK)
    st = aux_reserve(o, 1, sizeof(float) * k * r->n_mine);
  if ((st = cl_error_agree(o->comm, st)) != CL_OK)
    return st;
  int *scnt = o->counts, *sdsp = o->counts + P, *rcnt = o->counts + 2 * P,
      *rdsp = o->counts + 3 * P;
  float *send = o->aux[0], *recv = o->aux[1];
  uint64_t first = 0;
  for (int d = 0; d < P; d++) {
    uint64_t nc = (uint64_t)r->send_cols[d];
    scnt[d] = (int)(k * nc);
    sdsp[d] = (int)(k * first);
    for (uint64_t t = 0; t < k && nc; t++)
      memcpy(send + k * first + t * nc, r->buf + t * r->n_local + first, sizeof(float) * nc);
    first += nc;
    rcnt[d] = (int)(k * (uint64_t)r->recv_cols[d]);
    rdsp[d] = (int)(k * r->recv_before[d]);
  }
  MPI_Alltoallv(send, scnt, sdsp, MPI_FLOAT, recv, rcnt, rdsp, MPI_FLOAT, o->comm);
  float *block = o->aux[0];
  for (uint64_t c = 0; c < r->n_mine; c++) {
    int s = r->col_src[c];
    const float *src = recv + k * r->recv_before[s] + r->col_pos[c];
    uint64_t stride = (uint64_t)r->recv_cols[s];
    for (uint64_t t = 0; t < k; t++)
      block[t * r->n_mine + c] = src[t * stride];
  }
  hsize_t dims[2] = {r->rows_written + k, r->n_total};
  st = append_block(o->dxpl, r->ds_data, H5T_NATIVE_FLOAT, 2, dims, r->rows_written,
                    r->n_mine ? k : 0, r->col0, r->n_mine, block, "writing report data");
  if ((st = cl_error_agree(o->comm, st)) != CL_OK)
    return st;
  r->rows_written += k;
  r->rows = 0;
  return write_report_stop(o, r);
}

/* mapping/time: stop (exclusive) follows the rows written. */
static int write_report_stop(cl_output *o, report *r) {
  int st = CL_OK;
  double stop = r->t_start + (double)r->rows_written * r->dt;
  hid_t fs = H5Dget_space(r->ds_time);
  hsize_t one = 1, at = 1;
  hid_t ms = H5Screate_simple(1, &one, NULL);
  herr_t e = fs < 0 || ms < 0 ? -1 : 0;
  if (e >= 0 && o->rank == 0)
    e = H5Sselect_elements(fs, H5S_SELECT_SET, 1, &at);
  else if (e >= 0) {
    e = H5Sselect_none(fs);
    if (e >= 0)
      e = H5Sselect_none(ms);
  }
  if (e >= 0)
    e = H5Dwrite(r->ds_time, H5T_NATIVE_DOUBLE, ms, fs, o->dxpl, &stop);
  if (ms >= 0)
    H5Sclose(ms);
  if (fs >= 0)
    H5Sclose(fs);
  if (e < 0)
    st = H5FAIL("writing report time");
  return cl_error_agree(o->comm, st);
}

/* Appends the buffers; with durable, also flushes the files (H5Fflush, which syncs them to
 * disk: 60-70 ms over a 1 s run of 200 000 neurons when every early append did it). */
static int append(cl_output *out, int durable) {
  int st = CL_OK;
  for (size_t i = 0; i < out->n_pops && st == CL_OK; i++)
    st = flush_spikes(out, &out->pops[i]);
  if (st == CL_OK && durable && H5Fflush(out->spikes_file, H5F_SCOPE_LOCAL) < 0)
    st = H5FAIL("flushing " SPIKES_FILE);
  st = cl_error_agree(out->comm, st);
  for (size_t i = 0; i < out->n_reports && st == CL_OK; i++) {
    report *r = &out->reports[i];
    st = flush_report(out, r);
    if (st == CL_OK && durable && H5Fflush(r->file, H5F_SCOPE_LOCAL) < 0)
      st = H5FAIL(r->file_stem);
    st = cl_error_agree(out->comm, st);
  }
  return st;
}

int cl_output_flush(cl_output *out) {
  return append(out, 1);
}

int cl_output_append(cl_output *out) {
  return append(out, 0);
}

/* ---- metadata --------------------------------------------------------------------------- */

/* A scalar fixed-length string dataset (written by rank 0): long texts do not fit in an
 * attribute, and parallel HDF5 cannot write variable-length data. */
static size_t longest(size_t n, const char *const *names) {
  size_t l = 1;
  for (size_t i = 0; i < n; i++)
    if (names[i] && strlen(names[i]) + 1 > l)
      l = strlen(names[i]) + 1;
  return l;
}

/* A table of n rows {name, values[0..n_val)} as a compound dataset. */
static int write_table(cl_output *o, hid_t loc, const char *dsname, size_t n,
                       const char *const *names, int n_val, const char *const *val_names,
                       hid_t val_type, size_t val_size, const void *values) {
  size_t name_len = longest(n, names);
  size_t row = name_len + (size_t)n_val * val_size;
  unsigned char *buf = cl_calloc(n ? n : 1, row);
  CL_ALLOC_CHECK(buf);
  for (size_t i = 0; i < n; i++) {
    if (names[i])
      memcpy(buf + i * row, names[i], strlen(names[i]));
    for (int v = 0; v < n_val; v++)
      memcpy(buf + i * row + name_len + v * val_size,
             (const unsigned char *)values + ((size_t)v * n + i) * val_size, val_size);
  }
  hid_t st_t = H5Tcopy(H5T_C_S1), ct = H5Tcreate(H5T_COMPOUND, row);
  hsize_t dim = n;
  hid_t space = H5Screate_simple(1, &dim, NULL);
  int st = CL_OK;
  if (st_t < 0 || ct < 0 || space < 0 || H5Tset_size(st_t, name_len) < 0 ||
      H5Tinsert(ct, "name", 0, st_t) < 0)
    st = H5FAIL(dsname);
  for (int v = 0; v < n_val && st == CL_OK; v++)
    if (H5Tinsert(ct, val_names[v], name_len + v * val_size, val_type) < 0)
      st = H5FAIL(dsname);
  hid_t ds = -1;
  if (st == CL_OK) {
    ds = H5Dcreate2(loc, dsname, ct, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    st = ds < 0 ? H5FAIL(dsname) : write_from_rank0(o, ds, ct, buf, dsname);
  }
  hid_t ids[4] = {ds, space, ct, st_t};
  for (int i = 0; i < 4; i++)
    cl_h5_close(&ids[i]);
  free(buf);
  return st;
}

static int check_meta(const cl_output_meta *m) {
  if (!m)
    return CL_ERROR(CL_ERR_INTERNAL, "output: no metadata given");
  if ((m->n_pops && (!m->pop_names || !m->local_spike_counts)) ||
      (m->n_timers && (!m->timer_names || !m->timer_seconds)))
    return CL_ERROR(CL_ERR_INTERNAL, "output: metadata arrays missing");
  return CL_OK;
}

/* /condlif/timers_by_rank: float64 [n_ranks x n_timers] (row r: rank r's seconds per phase),
 * attribute `phases` (the column names). by_rank is the gathered table (rank 0). */
static int write_timers_by_rank(cl_output *o, hid_t g, const cl_output_meta *m,
                                const double *by_rank) {
  hsize_t dims[2] = {(hsize_t)o->size, m->n_timers};
  hid_t space = H5Screate_simple(2, dims, NULL);
  H5_TRY(space, "timers_by_rank");
  hid_t ds =
      H5Dcreate2(g, "timers_by_rank", H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  H5Sclose(space);
  if (ds < 0)
    return H5FAIL("timers_by_rank");
  int st = write_from_rank0(o, ds, H5T_NATIVE_DOUBLE, by_rank, "timers_by_rank");
  size_t len = longest(m->n_timers, m->timer_names);
  char *names = cl_calloc(m->n_timers ? m->n_timers : 1, len);
  hid_t str = H5Tcopy(H5T_C_S1);
  if (!names)
    st = st == CL_OK ? CL_ERR_MEM : st;
  else if (str < 0 || H5Tset_size(str, len) < 0)
    st = st == CL_OK ? H5FAIL("timers_by_rank phases") : st;
  if (st == CL_OK) {
    for (size_t i = 0; i < m->n_timers; i++)
      memcpy(names + i * len, m->timer_names[i], strlen(m->timer_names[i]));
    st = cl_h5_attr_write(ds, "phases", str, str, m->n_timers, names);
  }
  if (str >= 0)
    H5Tclose(str);
  free(names);
  H5Dclose(ds);
  return st;
}

static int write_meta_group(cl_output *o, const cl_output_meta *m, const uint64_t *sums,
                            const double *tim, const double *maxes, const double *by_rank) {
  hid_t f = o->spikes_file;
  htri_t exists = H5Lexists(f, "condlif", H5P_DEFAULT);
  H5_TRY(exists, "/condlif");
  if (exists > 0)
    H5_TRY(H5Ldelete(f, "condlif", H5P_DEFAULT), "replacing /condlif");
  hid_t g = H5Gcreate2(f, "condlif", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  H5_TRY(g, "creating /condlif");
  int n_ranks = o->size;
  double wall = maxes[0], rss = maxes[1];
  double rtf = wall > 0 ? (m->t_stop - m->t_start) / 1000.0 / wall : 0.0;
  int st = cl_h5_attr_string(g, "version", m->version);
  if (st == CL_OK)
    st = cl_h5_attr_string(g, "git_commit", m->git_commit);
#define ATTR(name, ft, mt, ptr)                                                                    \
  if (st == CL_OK)                                                                                 \
  st = cl_h5_attr_write(g, name, ft, mt, 0, ptr)
  ATTR("n_ranks", H5T_STD_I32LE, H5T_NATIVE_INT, &n_ranks);
  ATTR("seed", H5T_STD_U64LE, H5T_NATIVE_UINT64, &m->seed);
  ATTR("dt_ms", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &m->dt);
  ATTR("t_stop_ms", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &m->t_stop);
  ATTR("d_min_steps", H5T_STD_I64LE, H5T_NATIVE_INT64, &m->d_min_steps);
  ATTR("d_max_steps", H5T_STD_I64LE, H5T_NATIVE_INT64, &m->d_max_steps);
  ATTR("n_neurons", H5T_STD_U64LE, H5T_NATIVE_UINT64, &m->n_neurons);
  ATTR("n_synapses", H5T_STD_U64LE, H5T_NATIVE_UINT64, &sums[0]);
  ATTR("wall_seconds", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &wall);
  ATTR("peak_rss_bytes", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &rss);
  ATTR("real_time_factor", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &rtf);
  if (m->continued)
    ATTR("continued_from_ms", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &m->t_start);
  if (m->initial_state)
    ATTR("initial_state_ms", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &m->initial_t);
#undef ATTR
  if (st == CL_OK && m->initial_state)
    st = cl_h5_attr_string(g, "initial_state", m->initial_state);
  if (st == CL_OK)
    st = cl_h5_write_text(g, "config", m->config_text, o->dxpl, o->rank == 0);
  if (st == CL_OK)
    st = cl_h5_write_text(g, "config_resolved", m->resolved_text, o->dxpl, o->rank == 0);
  static const char *const count_names[1] = {"spikes"};
  if (st == CL_OK)
    st = write_table(o, g, "spike_counts", m->n_pops, m->pop_names, 1, count_names,
                     H5T_NATIVE_UINT64, sizeof(uint64_t), sums + 1);
  static const char *const timer_cols[3] = {"min_s", "mean_s", "max_s"};
  if (st == CL_OK)
    st = write_table(o, g, "timers", m->n_timers, m->timer_names, 3, timer_cols, H5T_NATIVE_DOUBLE,
                     sizeof(double), tim);
  if (st == CL_OK && m->n_timers)
    st = write_timers_by_rank(o, g, m, by_rank);
  if (st == CL_OK && m->completed) {
    unsigned char one = 1;
    st = cl_h5_attr_write(g, "completed", H5T_STD_U8LE, H5T_NATIVE_UCHAR, 0, &one);
  }
  H5Gclose(g);
  if (st == CL_OK && H5Fflush(f, H5F_SCOPE_LOCAL) < 0)
    st = H5FAIL("flushing " SPIKES_FILE);
  return st;
}

/* Layout of /condlif in spikes.h5 (replaced as a whole when written again):
 *   attributes  version, git_commit (strings); n_ranks (int32); seed (uint64); dt_ms,
 *               t_stop_ms (float64); d_min_steps, d_max_steps (int64); n_neurons, n_synapses
 *               (uint64, synapses summed over ranks); wall_seconds and peak_rss_bytes (float64,
 *               maxima over ranks); real_time_factor = (t_stop_ms / 1000) / wall_seconds
 *               (simulated seconds per wall-clock second; of this part of a continued run);
 *               completed (uint8 1, only when the run reached t_stop); continued_from_ms
 *               (float64: a run continued from a checkpoint, where this part began; the
 *               timers, wall time and memory are this part's)
 *   config, config_resolved   scalar fixed-length strings: the configuration as given and
 *                             with defaults and units applied
 *   spike_counts  compound [n_pops] {name, spikes (uint64, summed over ranks)}
 *   timers        compound [n_timers] {name, min_s, mean_s, max_s (float64, over ranks)}
 *   timers_by_rank  float64 [n_ranks x n_timers]: each rank's seconds per phase (the load
 *                   balance of a run), attribute phases (the timer names) */
int cl_output_write_meta(cl_output *out, const cl_output_meta *meta) {
  int st = cl_error_agree(out->comm, check_meta(meta));
  if (st != CL_OK)
    return st;
  size_t np = meta->n_pops, nt = meta->n_timers;
  uint64_t *sums = cl_malloc(sizeof *sums * (np + 1));
  double *tim = cl_malloc(sizeof *tim * (3 * nt + 1));
  double *tmp = cl_malloc(sizeof *tmp * (2 * nt + 2));
  double *by_rank = cl_malloc(sizeof *by_rank * (nt * (size_t)out->size + 1));
  if (!sums || !tim || !tmp || !by_rank)
    st = CL_ERR_MEM;
  if ((st = cl_error_agree(out->comm, st)) == CL_OK) {
    sums[0] = meta->local_synapses;
    for (size_t i = 0; i < np; i++)
      sums[i + 1] = meta->local_spike_counts[i];
    MPI_Allreduce(MPI_IN_PLACE, sums, (int)(np + 1), MPI_UINT64_T, MPI_SUM, out->comm);
    /* timers: min, mean, max (columns of tim); max also of wall time and peak memory. */
    for (size_t i = 0; i < nt; i++) {
      tmp[i] = -meta->timer_seconds[i];
      tmp[nt + i] = meta->timer_seconds[i];
    }
    tmp[2 * nt] = meta->wall_seconds;
    tmp[2 * nt + 1] = meta->peak_rss_bytes;
    MPI_Allreduce(MPI_IN_PLACE, tmp, (int)(2 * nt + 2), MPI_DOUBLE, MPI_MAX, out->comm);
    for (size_t i = 0; i < nt; i++) {
      tim[i] = -tmp[i];
      tim[2 * nt + i] = tmp[nt + i];
      tim[nt + i] = meta->timer_seconds[i];
    }
    if (nt)
      MPI_Allreduce(MPI_IN_PLACE, tim + nt, (int)nt, MPI_DOUBLE, MPI_SUM, out->comm);
    for (size_t i = 0; i < nt; i++)
      tim[nt + i] /= out->size;
    MPI_Gather(meta->timer_seconds, (int)nt, MPI_DOUBLE, by_rank, (int)nt, MPI_DOUBLE, 0,
               out->comm);
    st = write_meta_group(out, meta, sums, tim, tmp + 2 * nt, by_rank);
  }
  free(by_rank);
  free(sums);
  free(tim);
  free(tmp);
  return cl_error_agree(out->comm, st);
}

int cl_output_close(cl_output **out) {
  cl_output *o = *out;
  if (!o)
    return CL_OK;
  int st = cl_output_append(o); /* closing writes the rest; no sync to disk needed first */
  MPI_Comm comm;
  MPI_Comm_dup(o->comm, &comm);
  /* Closing the files is collective (H5F_CLOSE_STRONG closes their objects as well). */
  int cst = CL_OK;
  for (size_t i = 0; i < o->n_reports; i++) {
    report *r = &o->reports[i];
    cl_h5_close(&r->ds_data);
    cl_h5_close(&r->ds_time);
    if (r->file >= 0 && H5Fclose(r->file) < 0)
      cst = H5FAIL(r->file_stem);
    r->file = H5I_INVALID_HID;
  }
  for (size_t i = 0; i < o->n_pops; i++) {
    spike_pop *p = &o->pops[i];
    cl_h5_close(&p->ds_times);
    cl_h5_close(&p->ds_ids);
    cl_h5_close(&p->group);
  }
  if (o->spikes_file >= 0 && H5Fclose(o->spikes_file) < 0)
    cst = H5FAIL(SPIKES_FILE);
  if (o->edges_file >= 0 && H5Fclose(o->edges_file) < 0)
    cst = H5FAIL(EDGES_FILE);
  o->edges_file = H5I_INVALID_HID;
  o->spikes_file = H5I_INVALID_HID;
  destroy(o);
  *out = NULL;
  if (st == CL_OK)
    st = cst;
  st = cl_error_agree(comm, st);
  MPI_Comm_free(&comm);
  return st;
}
