/* output: the run directory rules, buffering and bounded memory, and a complete synthetic run
 * (three spike populations, two reports, metadata) written with several flushes.
 *
 *   test_output                 unit test: everything in a temporary directory, which is read
 *                               back here (spike counts, order, report shape) and removed
 *   test_output write BASE      the run into BASE/run (API checks in BASE/api), left for
 *                               tests/output/check_output.py
 *   test_output abort BASE      the run into BASE/run, stopped by MPI_Abort after flush number
 *                               ABORT_FLUSHES: what was flushed must stay readable
 *
 * The synthetic network is described in tests/output/check_output.py as well (keep the two in
 * step): neuron gid g lives on rank g % P, like condlif's neurons. Population "a" (1000 neurons,
 * gids 0..999) spikes on a 1/32 ms grid (many exact ties in time), "b" (257 neurons) at
 * multiples of 0.1 ms, "c" (10 neurons) every 100 ms plus one spike added late (out of time
 * order), which must turn its `sorting` to "none". */
#define _XOPEN_SOURCE 700
#include "condlif/output.h"

#include <ftw.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "condlif/error.h"
#include "condlif/version.h"

static int failures;
static int rank_, size_;
#define CHECK(cond)                                                                                \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      fprintf(stderr, "rank %d: %s:%d: check failed: %s\n", rank_, __FILE__, __LINE__, #cond);     \
      if (cl_error_message()[0])                                                                   \
        fprintf(stderr, "  last error: %s\n", cl_error_message());                                 \
      failures++;                                                                                  \
    }                                                                                              \
  } while (0)

/* ---- the synthetic run (mirrored in tests/output/check_output.py) ----------------------- */
enum { NA = 1000, NB = 257, NC = 10 };
enum { FIRST_A = 0, FIRST_B = NA, FIRST_C = NA + NB, N_GIDS = NA + NB + NC };
#define N_WINDOWS 4000 /* windows of 2 ms: the run lasts 8000 ms */
/* Windows between flushes: 32 P (64 P ms), about 1e4 spikes per rank between two flushes. */
#define FLUSH_EVERY (32 * size_)
#define ABORT_FLUSHES 4  /* abort mode stops after this many flushes (window 128 P) */
#define LATE_WINDOW 1000 /* window in which the late spike of c (node 3 at 1 ms) is added */
#define LATE_NODE 3
/* Report "a_V_m": nodes i % 3 == 0 of a, sampled at t = 2 j ms (one sample per window). */
#define RA_DT 2.0
#define RA_TIMES N_WINDOWS
/* Report "b_g_ex": nodes {0, 4, 8, 101, 256} of b, at t = 0.25 + 0.5 j ms (four per window). */
#define RB_T0 0.25
#define RB_DT 0.5
#define RB_TIMES (4 * N_WINDOWS)
static const uint64_t rb_nodes[] = {0, 4, 8, 101, 256};
#define RB_N (sizeof rb_nodes / sizeof rb_nodes[0])
/* Bounds of this rank's buffers with about 1e4 spikes (16 bytes each) and 32 P samples per rank
 * between flushes (at 3 ranks, rank 0 records all 334 columns of a_V_m: 128 KiB of samples). */
#define BUFFERED_BOUND ((size_t)512 << 10)
#define ALLOCATED_BOUND ((size_t)2 << 20)

/* Spike k of a neuron: a in 1/32 ms, b in 0.1 ms, c in ms. */
static int64_t a_period(uint64_t i) {
  return 160 + 16 * (int64_t)(i % 16);
}
static int64_t a_q(uint64_t i, int64_t k) {
  return (int64_t)(37 * i) % a_period(i) + k * a_period(i);
}
static int64_t b_period(uint64_t i) {
  return 70 + (int64_t)(i % 13);
}
static int64_t b_q(uint64_t i, int64_t k) {
  return (int64_t)(7 * i) % b_period(i) + k * b_period(i);
}
static int64_t c_q(uint64_t i, int64_t k) {
  return 100 * k + (int64_t)i;
}
/* Window (2 ms) of a spike, and its time in ms. */
static int64_t window_of(int pop, int64_t q) {
  return pop == 0 ? q / 64 : pop == 1 ? q / 20 : q / 2;
}
static double time_of(int pop, int64_t q) {
  return pop == 0 ? (double)q / 32.0 : pop == 1 ? (double)q * 0.1 : (double)q;
}
static float ra_value(uint64_t i, uint64_t j) {
  return (float)((double)(-70000 + 10 * (int64_t)i + (int64_t)j) * 0.001);
}
static float rb_value(uint64_t i, uint64_t j) {
  return (float)((double)(1000 * (int64_t)i + (int64_t)j) * 0.001);
}

static const uint64_t pop_size[3] = {NA, NB, NC}, pop_first[3] = {FIRST_A, FIRST_B, FIRST_C};
static const char *const pop_name[3] = {"a", "b", "c"};

typedef struct {
  uint64_t n_local[3];
  uint64_t *local[3]; /* local node ids per population */
  int64_t *next_k[3]; /* next spike index per local neuron */
  uint64_t ra_n, *ra_ids, rb_n, rb_ids[RB_N];
  float *values;
  uint64_t *ids;
  double *times;
  size_t cap;
  uint64_t count[3]; /* spikes added on this rank */
} gen;

static void gen_init(gen *g) {
  memset(g, 0, sizeof *g);
  for (int p = 0; p < 3; p++) {
    g->local[p] = malloc(sizeof(uint64_t) * pop_size[p]);
    g->next_k[p] = calloc(pop_size[p], sizeof(int64_t));
    for (uint64_t i = 0; i < pop_size[p]; i++)
      if ((pop_first[p] + i) % (uint64_t)size_ == (uint64_t)rank_)
        g->local[p][g->n_local[p]++] = i;
  }
  g->ra_ids = malloc(sizeof(uint64_t) * NA);
  for (uint64_t i = 0; i < NA; i += 3)
    if ((FIRST_A + i) % (uint64_t)size_ == (uint64_t)rank_)
      g->ra_ids[g->ra_n++] = i;
  for (size_t k = 0; k < RB_N; k++)
    if ((FIRST_B + rb_nodes[k]) % (uint64_t)size_ == (uint64_t)rank_)
      g->rb_ids[g->rb_n++] = rb_nodes[k];
  g->values = malloc(sizeof(float) * (NA + 1));
  g->cap = 4 * N_GIDS;
  g->ids = malloc(sizeof(uint64_t) * g->cap);
  g->times = malloc(sizeof(double) * g->cap);
}

static void gen_free(gen *g) {
  for (int p = 0; p < 3; p++) {
    free(g->local[p]);
    free(g->next_k[p]);
  }
  free(g->ra_ids);
  free(g->values);
  free(g->ids);
  free(g->times);
}

static int64_t q_of(int p, uint64_t i, int64_t k) {
  return p == 0 ? a_q(i, k) : p == 1 ? b_q(i, k) : c_q(i, k);
}

/* Adds this rank's spikes and samples of window w (neuron by neuron, so not in time order).
 * Returns the number of spikes added. */
static size_t gen_window(gen *g, cl_output *out, int64_t w) {
  size_t added = 0;
  for (int p = 0; p < 3; p++) {
    size_t n = 0;
    for (uint64_t l = 0; l < g->n_local[p]; l++) {
      uint64_t i = g->local[p][l];
      int64_t q;
      while (window_of(p, q = q_of(p, i, g->next_k[p][l])) == w) {
        g->ids[n] = i;
        g->times[n++] = time_of(p, q);
        g->next_k[p][l]++;
      }
    }
    if (p == 2 && w == LATE_WINDOW && (FIRST_C + LATE_NODE) % size_ == rank_) {
      g->ids[n] = LATE_NODE;
      g->times[n++] = 1.0;
    }
    CHECK(cl_output_add_spikes(out, (size_t)p, n, g->ids, g->times) == CL_OK);
    g->count[p] += n;
    added += n;
  }
  for (uint64_t l = 0; l < g->ra_n; l++)
    g->values[l] = ra_value(g->ra_ids[l], (uint64_t)w);
  CHECK(cl_output_add_sample(out, 0, g->values) == CL_OK);
  for (uint64_t j = 4 * (uint64_t)w; j < 4 * (uint64_t)w + 4; j++) {
    for (uint64_t l = 0; l < g->rb_n; l++)
      g->values[l] = rb_value(g->rb_ids[l], j);
    CHECK(cl_output_add_sample(out, 1, g->values) == CL_OK);
  }
  return added;
}

static cl_output_desc run_desc(const char *dir, int force, const gen *g,
                               cl_output_spike_pop pops[3], cl_output_report reps[2]) {
  for (int p = 0; p < 3; p++)
    pops[p] = (cl_output_spike_pop){pop_name[p], pop_size[p], 0};
  reps[0] = (cl_output_report){"a_V_m", "a", "V_m", "mV", g->ra_n, g->ra_ids, 0.0, RA_DT, RA_TIMES};
  reps[1] =
      (cl_output_report){"b_g_ex", "b", "g_ex", "nS", g->rb_n, g->rb_ids, RB_T0, RB_DT, RB_TIMES};
  /* a hint of 64 KB: buffers reserved at open, and outgrown by the later windows */
  return (cl_output_desc){dir, force, 3, pops, 2, reps, (size_t)64 << 10, 0, NULL, NULL};
}

static void write_meta(cl_output *out, const gen *g, int completed) {
  const char *names[4] = {"a", "b", "c", "src"};
  uint64_t counts[4] = {g->count[0], g->count[1], g->count[2], 0};
  const char *timers[3] = {"update", "exchange", "write"};
  double secs[3] = {rank_ + 1.0, 2.0 * (rank_ + 1), 0.5};
  cl_output_meta m = {
      .config_text = "# synthetic\nsim = { dt = 0.1; t_stop = 8000.0; };\n",
      .resolved_text = "sim = { dt = 0.1; t_stop = 8000.0; seed = 12345; };\n",
      .version = CL_VERSION_STRING,
      .git_commit = cl_git_commit,
      .seed = 12345,
      .dt = 0.1,
      .t_stop = 8000.0,
      .d_min_steps = 15,
      .d_max_steps = 30,
      .n_neurons = N_GIDS,
      .local_synapses = 1000 + (uint64_t)rank_,
      .n_pops = 4,
      .pop_names = names,
      .local_spike_counts = counts,
      .n_timers = 3,
      .timer_names = timers,
      .timer_seconds = secs,
      .wall_seconds = 10.0 + rank_,
      .peak_rss_bytes = 1e6 * (rank_ + 1),
      .completed = completed,
  };
  CHECK(cl_output_write_meta(out, &m) == CL_OK);
}

/* The synthetic run into dir. In abort mode, the last rank calls MPI_Abort after flush number
 * ABORT_FLUSHES and the metadata (completed = 0). */
static void run(const char *dir, int abort_mode) {
  gen g;
  gen_init(&g);
  cl_output_spike_pop pops[3];
  cl_output_report reps[2];
  cl_output_desc d = run_desc(dir, 0, &g, pops, reps);
  cl_output *out = NULL;
  int st = cl_output_open(&out, MPI_COMM_WORLD, &d);
  CHECK(st == CL_OK);
  if (st != CL_OK) {
    gen_free(&g);
    return;
  }
  /* the spike buffers and the flush's scratch were reserved at open for the hint */
  CHECK(cl_output_allocated_bytes(out) >= d.spike_buffer_bytes);
  size_t since_flush = 0, max_since_flush = 0, max_alloc = 0;
  for (int64_t w = 0; w < N_WINDOWS; w++) {
    since_flush += gen_window(&g, out, w);
    size_t rows = (size_t)(w % FLUSH_EVERY) + 1;
    size_t expect = 16 * since_flush + sizeof(float) * rows * (g.ra_n + 4 * g.rb_n);
    CHECK(cl_output_buffered_bytes(out) == expect);
    CHECK(cl_output_buffered_spike_bytes(out) == 16 * since_flush);
    CHECK(cl_output_buffered_bytes(out) <= BUFFERED_BOUND);
    if ((w + 1) % FLUSH_EVERY == 0) {
      CHECK(cl_output_flush(out) == CL_OK);
      CHECK(cl_output_buffered_bytes(out) == 0);
      max_since_flush = since_flush > max_since_flush ? since_flush : max_since_flush;
      since_flush = 0;
    }
    size_t alloc = cl_output_allocated_bytes(out);
    max_alloc = alloc > max_alloc ? alloc : max_alloc;
    CHECK(alloc <= ALLOCATED_BOUND);
    if (abort_mode && w + 1 == ABORT_FLUSHES * FLUSH_EVERY) {
      write_meta(out, &g, 0);
      MPI_Barrier(MPI_COMM_WORLD);
      gen_window(&g, out, w + 1); /* buffered, never written */
      if (rank_ == size_ - 1) {
        fprintf(stderr, "test_output: rank %d aborts on purpose after %lld ms\n", rank_,
                (long long)(2 * (w + 1)));
        MPI_Abort(MPI_COMM_WORLD, 3);
      }
      MPI_Barrier(MPI_COMM_WORLD);
    }
  }
  uint64_t total = g.count[0] + g.count[1] + g.count[2], all = 0;
  MPI_Allreduce(&total, &all, 1, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
  if (rank_ == 0)
    printf("test_output: %llu spikes on %d rank(s); at most %zu spikes buffered per rank "
           "between flushes, at most %zu bytes allocated (bounds: %zu buffered, %zu "
           "allocated)\n",
           (unsigned long long)all, size_, max_since_flush, max_alloc, BUFFERED_BOUND,
           ALLOCATED_BOUND);
  CHECK(all >= 1000000);
  write_meta(out, &g, 1);
  CHECK(cl_output_close(&out) == CL_OK);
  CHECK(out == NULL);
  gen_free(&g);
}

/* ---- helpers for the API checks ---------------------------------------------------------- */

/* Rank 0: the bytes of a file (NULL when missing); *n its size. */
static unsigned char *slurp(const char *path, size_t *n) {
  *n = 0;
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *b = malloc(len > 0 ? (size_t)len : 1);
  if (b && len > 0 && fread(b, 1, (size_t)len, f) != (size_t)len) {
    free(b);
    b = NULL;
  }
  fclose(f);
  *n = (size_t)len;
  return b;
}

static int same_file(const char *path, const unsigned char *bytes, size_t n) {
  size_t m;
  unsigned char *b = slurp(path, &m);
  int same = b && m == n && memcmp(b, bytes, n) == 0;
  free(b);
  return same;
}

static int exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

/* Every rank got the same status. */
static int same_everywhere(int st) {
  int mm[2] = {st, -st}, r[2];
  MPI_Allreduce(mm, r, 2, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  return r[0] == -r[1];
}

/* Length of a 1-d dataset (rank 0, serial HDF5 access), -1 on error. */
static long long ds_len(const char *file, const char *ds) {
  hid_t f = H5Fopen(file, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0)
    return -1;
  hid_t d = H5Dopen2(f, ds, H5P_DEFAULT);
  hsize_t dims[2] = {0, 0};
  long long len = -1;
  if (d >= 0) {
    hid_t s = H5Dget_space(d);
    if (H5Sget_simple_extent_dims(s, dims, NULL) >= 1)
      len = (long long)dims[0];
    H5Sclose(s);
    H5Dclose(d);
  }
  H5Fclose(f);
  return len;
}

static void path_join(char *buf, size_t n, const char *a, const char *b) {
  int r = snprintf(buf, n, "%s/%s", a, b);
  if (r < 0 || (size_t)r >= n) {
    fprintf(stderr, "test_output: path too long: %s/%s\n", a, b);
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
}

/* One population of 10 neurons and one report of it, for the directory checks. */
static int small_open(cl_output **out, const char *dir, int force, const char *stem,
                      const char *pop2) {
  static uint64_t ids[10];
  uint64_t n = 0;
  for (uint64_t i = 0; i < 10; i++)
    if (i % (uint64_t)size_ == (uint64_t)rank_)
      ids[n++] = i;
  cl_output_spike_pop pops[2] = {{"p", 10, 0}, {pop2 ? pop2 : "q", 5, 0}};
  cl_output_report rep = {stem, "p", "V_m", "mV", n, ids, 0.0, 1.0, 4};
  cl_output_desc d = {dir, force, 2, pops, 1, &rep, 0, 0, NULL, NULL};
  return cl_output_open(out, MPI_COMM_WORLD, &d);
}

static void api_checks(const char *base) {
  char dir[1024], spikes[1100], other[1100];
  path_join(dir, sizeof dir, base, "api/new/nested/run");
  path_join(spikes, sizeof spikes, dir, "spikes.h5");
  cl_output *out = NULL;

  /* A new directory (and its parents) is created. */
  CHECK(small_open(&out, dir, 0, "rep", NULL) == CL_OK);
  CHECK(out != NULL);
  if (!out)
    return;
  uint64_t id = 3;
  double t = 1.5;
  if (rank_ == 0)
    CHECK(cl_output_add_spikes(out, 0, 1, &id, &t) == CL_OK);
  CHECK(cl_output_buffered_bytes(out) == (rank_ == 0 ? 16u : 0u));
  /* Invalid input is refused and leaves the buffer as it was. */
  uint64_t bad_id = 10;
  CHECK(cl_output_add_spikes(out, 0, 1, &bad_id, &t) == CL_ERR_INTERNAL);
  double bad_t = 0.0 / 0.0;
  CHECK(cl_output_add_spikes(out, 0, 1, &id, &bad_t) == CL_ERR_INTERNAL);
  CHECK(cl_output_add_spikes(out, 7, 1, &id, &t) == CL_ERR_INTERNAL);
  CHECK(cl_output_buffered_bytes(out) == (rank_ == 0 ? 16u : 0u));
  float v[10] = {0};
  for (int k = 0; k < 4; k++)
    CHECK(cl_output_add_sample(out, 0, v) == CL_OK);
  CHECK(cl_output_add_sample(out, 0, v) == CL_ERR_INTERNAL); /* more than n_times = 4 */
  CHECK(cl_output_add_sample(out, 1, v) == CL_ERR_INTERNAL);
  CHECK(cl_output_flush(out) == CL_OK);
  CHECK(cl_output_buffered_bytes(out) == 0);
  CHECK(cl_output_close(&out) == CL_OK);
  CHECK(out == NULL);
  MPI_Barrier(MPI_COMM_WORLD);
  size_t n_before = 0;
  unsigned char *before = NULL;
  if (rank_ == 0) {
    CHECK(ds_len(spikes, "/spikes/p/node_ids") == 1);
    before = slurp(spikes, &n_before);
    CHECK(before != NULL);
  }

  /* An existing directory is refused without force; nothing is touched. */
  int st = small_open(&out, dir, 0, "rep", NULL);
  CHECK(st == CL_ERR_USER);
  CHECK(same_everywhere(st));
  CHECK(out == NULL);
  if (rank_ == 0)
    CHECK(strstr(cl_error_message(), "already exists") != NULL);
  cl_error_clear();
  /* An invalid description is refused before anything is touched, even with force. */
  st = small_open(&out, dir, 1, "rep", "p");
  CHECK(st == CL_ERR_USER && same_everywhere(st) && out == NULL);
  CHECK(strstr(cl_error_message(), "given twice") != NULL);
  cl_error_clear();
  /* A file of the run would replace a directory: refused, nothing touched, nothing left. */
  path_join(other, sizeof other, dir, "blocked.h5");
  if (rank_ == 0)
    CHECK(mkdir(other, 0777) == 0);
  MPI_Barrier(MPI_COMM_WORLD);
  st = small_open(&out, dir, 1, "blocked", NULL);
  CHECK(st == CL_ERR_USER && same_everywhere(st) && out == NULL);
  cl_error_clear();
  if (rank_ == 0) {
    CHECK(same_file(spikes, before, n_before));
    path_join(other, sizeof other, dir, ".spikes.h5.partial");
    CHECK(!exists(other));
  }
  /* The run directory's path is a file, or lies below one. */
  path_join(other, sizeof other, dir, "rep.h5");
  if (rank_ == 0)
    CHECK(exists(other));
  st = small_open(&out, other, 1, "rep", NULL);
  CHECK(st == CL_ERR_USER && same_everywhere(st) && out == NULL);
  cl_error_clear();
  char below[1200];
  path_join(below, sizeof below, other, "sub");
  st = small_open(&out, below, 0, "rep", NULL);
  CHECK(st == CL_ERR_IO && same_everywhere(st) && out == NULL);
  cl_error_clear();
  if (rank_ == 0)
    CHECK(same_file(spikes, before, n_before));
  /* No directory given. */
  st = small_open(&out, "", 0, "rep", NULL);
  CHECK(st == CL_ERR_USER && same_everywhere(st) && out == NULL);
  cl_error_clear();

  /* With force the files are replaced by this run's. Metadata without timers, populations or
   * texts, written twice: the second replaces the first. */
  CHECK(small_open(&out, dir, 1, "rep", NULL) == CL_OK);
  if (out) {
    cl_output_meta m = {.t_stop = 10.0, .wall_seconds = 0.0, .completed = 0};
    CHECK(cl_output_write_meta(out, &m) == CL_OK);
    m.completed = 1;
    m.wall_seconds = 2.0;
    CHECK(cl_output_write_meta(out, &m) == CL_OK);
    cl_output_meta bad = {.n_timers = 2};
    st = cl_output_write_meta(out, &bad);
    CHECK(st == CL_ERR_INTERNAL && same_everywhere(st));
    cl_error_clear();
  }
  CHECK(cl_output_close(&out) == CL_OK);
  MPI_Barrier(MPI_COMM_WORLD);
  if (rank_ == 0) {
    CHECK(!same_file(spikes, before, n_before));
    CHECK(ds_len(spikes, "/spikes/p/node_ids") == 0);
    CHECK(ds_len(spikes, "/condlif/timers") == 0);
    CHECK(ds_len(spikes, "/condlif/spike_counts") == 0);
    hid_t f = H5Fopen(spikes, H5F_ACC_RDONLY, H5P_DEFAULT);
    CHECK(f >= 0 && H5Aexists_by_name(f, "condlif", "completed", H5P_DEFAULT) > 0);
    double rtf = 0;
    hid_t a =
        f >= 0 ? H5Aopen_by_name(f, "condlif", "real_time_factor", H5P_DEFAULT, H5P_DEFAULT) : -1;
    CHECK(a >= 0 && H5Aread(a, H5T_NATIVE_DOUBLE, &rtf) >= 0 && rtf == 0.005);
    if (a >= 0)
      H5Aclose(a);
    if (f >= 0)
      H5Fclose(f);
  }
  free(before);

  /* Ranks that disagree: a description that differs, or different numbers of samples, is an
   * error on every rank (and no rank hangs). */
  if (size_ > 1) {
    path_join(dir, sizeof dir, base, "api/mismatch");
    cl_output_spike_pop pops[1] = {{"p", rank_ == 1 ? 11 : 10, 0}};
    cl_output_desc d = {dir, 0, 1, pops, 0, NULL, 0, 0, NULL, NULL};
    st = cl_output_open(&out, MPI_COMM_WORLD, &d);
    CHECK(st == CL_ERR_INTERNAL && same_everywhere(st) && out == NULL);
    cl_error_clear();
    CHECK(small_open(&out, dir, 0, "rep", NULL) == CL_OK);
    if (out) {
      float w[10] = {0};
      CHECK(cl_output_add_sample(out, 0, w) == CL_OK);
      if (rank_ == 0)
        CHECK(cl_output_add_sample(out, 0, w) == CL_OK);
      st = cl_output_flush(out);
      CHECK(st == CL_ERR_INTERNAL && same_everywhere(st));
      st = cl_output_close(&out);
      CHECK(st != CL_OK && same_everywhere(st) && out == NULL);
      cl_error_clear();
    }
  }
}

/* Rank 0, after the run: spike counts, time order, report shapes, and the refusal to reuse the
 * run directory. */
static void read_back(const char *dir) {
  char spikes[1100], path[1100];
  path_join(spikes, sizeof spikes, dir, "spikes.h5");
  size_t n_before = 0;
  unsigned char *before = rank_ == 0 ? slurp(spikes, &n_before) : NULL;
  cl_output_spike_pop pops[1] = {{"a", NA, 0}};
  cl_output_desc d = {dir, 0, 1, pops, 0, NULL, 0, 0, NULL, NULL};
  cl_output *out = NULL;
  int st = cl_output_open(&out, MPI_COMM_WORLD, &d);
  CHECK(st == CL_ERR_USER && same_everywhere(st) && out == NULL);
  cl_error_clear();
  if (rank_ != 0)
    return;
  CHECK(before && same_file(spikes, before, n_before));
  free(before);
  /* Expected totals from the formulas. */
  long long expect[3] = {0, 0, 1};
  for (uint64_t i = 0; i < NA; i++)
    for (int64_t k = 0; window_of(0, a_q(i, k)) < N_WINDOWS; k++)
      expect[0]++;
  for (uint64_t i = 0; i < NB; i++)
    for (int64_t k = 0; window_of(1, b_q(i, k)) < N_WINDOWS; k++)
      expect[1]++;
  for (uint64_t i = 0; i < NC; i++)
    for (int64_t k = 0; window_of(2, c_q(i, k)) < N_WINDOWS; k++)
      expect[2]++;
  hid_t f = H5Fopen(spikes, H5F_ACC_RDONLY, H5P_DEFAULT);
  CHECK(f >= 0);
  for (int p = 0; p < 3 && f >= 0; p++) {
    snprintf(path, sizeof path, "/spikes/%s/timestamps", pop_name[p]);
    hid_t ds = H5Dopen2(f, path, H5P_DEFAULT);
    hid_t sp = H5Dget_space(ds);
    hsize_t n = 0;
    H5Sget_simple_extent_dims(sp, &n, NULL);
    CHECK((long long)n == expect[p]);
    double *t = malloc(sizeof *t * (n ? n : 1));
    CHECK(H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, t) >= 0);
    size_t unordered = 0;
    for (hsize_t i = 1; i < n; i++)
      unordered += t[i] < t[i - 1];
    CHECK(p == 2 ? unordered == 1 : unordered == 0);
    free(t);
    H5Sclose(sp);
    H5Dclose(ds);
  }
  if (f >= 0)
    H5Fclose(f);
  path_join(path, sizeof path, dir, "a_V_m.h5");
  CHECK(ds_len(path, "/report/a/data") == RA_TIMES);
  CHECK(ds_len(path, "/report/a/mapping/node_ids") == (NA + 2) / 3);
  path_join(path, sizeof path, dir, "b_g_ex.h5");
  CHECK(ds_len(path, "/report/b/data") == RB_TIMES);
  CHECK(ds_len(path, "/report/b/mapping/index_pointers") == RB_N + 1);
}

/* The sort of a flush. A rank's spikes arrive step by step, each step's in no particular order
 * (here: reversed, with ties in time), which insertion sort handles when the groups are small;
 * one early group of 3000 records (few descents but 4.5 M inversions) must make it give up and
 * leave the rest to the radix sort. Either way the file is in (time, id) order and holds every
 * record once. Records of gid g live on rank g % P. */
static void sort_checks(const char *base) {
  enum { STEPS = 2000, BIG = 3000 };
  char dir[1100];
  path_join(dir, sizeof dir, base, "sort");
  const uint64_t n_nodes = 4 * BIG;
  cl_output_spike_pop pops[1] = {{"s", n_nodes, 0}};
  for (int big = 0; big < 2; big++) {
    cl_output_desc d = {dir, 1, 1, pops, 0, NULL, (size_t)256 << 10, 0, NULL, NULL};
    cl_output *out = NULL;
    CHECK(cl_output_open(&out, MPI_COMM_WORLD, &d) == CL_OK);
    if (!out)
      return;
    uint64_t ids[BIG];
    double times[BIG];
    uint64_t added = 0, id_sum = 0;
    for (int64_t step = 0; step < STEPS; step++) {
      /* group size 1-7 (BIG at step 3 in the second pass), reversed: times fall inside the
       * step, the first two records of a group share their time */
      size_t k = big && step == 3 ? BIG : 1 + (size_t)(step % 7), n = 0;
      for (size_t j = k; j-- > 0;) {
        uint64_t gid = ((uint64_t)step * 7 + j) % n_nodes;
        if (gid % (uint64_t)size_ != (uint64_t)rank_)
          continue;
        ids[n] = gid;
        times[n++] = 0.1 * (double)step + 0.1 * (double)(j < 2 ? 1 : j) / (double)(k + 1);
        id_sum += gid;
      }
      CHECK(cl_output_add_spikes(out, 0, n, ids, times) == CL_OK);
      added += n;
    }
    CHECK(cl_output_flush(out) == CL_OK);
    CHECK(cl_output_close(&out) == CL_OK);
    uint64_t mine[2] = {added, id_sum}, all[2] = {0, 0};
    MPI_Reduce(mine, all, 2, MPI_UINT64_T, MPI_SUM, 0, MPI_COMM_WORLD);
    if (rank_ != 0)
      continue;
    char spikes[1200];
    path_join(spikes, sizeof spikes, dir, "spikes.h5");
    hid_t f = H5Fopen(spikes, H5F_ACC_RDONLY, H5P_DEFAULT);
    CHECK(f >= 0);
    if (f < 0)
      continue;
    hid_t dt = H5Dopen2(f, "/spikes/s/timestamps", H5P_DEFAULT);
    hid_t di = H5Dopen2(f, "/spikes/s/node_ids", H5P_DEFAULT);
    hid_t sp = H5Dget_space(dt);
    hsize_t n = 0;
    H5Sget_simple_extent_dims(sp, &n, NULL);
    CHECK(n == all[0]);
    double *t = malloc(sizeof *t * (n ? n : 1));
    uint64_t *id = malloc(sizeof *id * (n ? n : 1));
    CHECK(H5Dread(dt, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, t) >= 0);
    CHECK(H5Dread(di, H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, id) >= 0);
    size_t unordered = 0;
    uint64_t sum = n ? id[0] : 0;
    for (hsize_t i = 1; i < n; i++) {
      unordered += t[i] < t[i - 1] || (t[i] == t[i - 1] && id[i] <= id[i - 1]);
      sum += id[i];
    }
    CHECK(unordered == 0);
    CHECK(sum == all[1]);
    free(t);
    free(id);
    H5Sclose(sp);
    H5Dclose(dt);
    H5Dclose(di);
    H5Fclose(f);
  }
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb;
  (void)flag;
  (void)ftw;
  return remove(path);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  const char *mode = argc > 1 ? argv[1] : "unit";
  char base[1024], dir[1100];
  if (argc > 2) {
    snprintf(base, sizeof base, "%s", argv[2]);
  } else {
    /* A fresh directory below the working directory, named by rank 0. */
    if (rank_ == 0) {
      snprintf(base, sizeof base, "test_output.XXXXXX");
      if (!mkdtemp(base))
        base[0] = '\0';
    }
    MPI_Bcast(base, sizeof base, MPI_CHAR, 0, MPI_COMM_WORLD);
    if (!base[0]) {
      fprintf(stderr, "test_output: cannot create a temporary directory\n");
      MPI_Abort(MPI_COMM_WORLD, 1);
    }
  }
  path_join(dir, sizeof dir, base, "run");
  if (strcmp(mode, "abort") == 0) {
    run(dir, 1);
    fprintf(stderr, "test_output: the abort did not happen\n");
    failures++;
  } else if (strcmp(mode, "write") == 0 || strcmp(mode, "unit") == 0) {
    api_checks(base);
    sort_checks(base);
    run(dir, 0);
    read_back(dir);
  } else {
    fprintf(stderr, "usage: test_output [write|abort BASE]\n");
    failures++;
  }
  int all = 0;
  MPI_Allreduce(&failures, &all, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  if (strcmp(mode, "unit") == 0 && all == 0 && rank_ == 0)
    nftw(base, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  MPI_Finalize();
  if (failures)
    fprintf(stderr, "test_output: rank %d: %d check(s) failed\n", rank_, failures);
  return all != 0;
}
