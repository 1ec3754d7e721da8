/* edges: edges.h5 as cl_edges_write writes it (tests/engine/edges.cfg, every connection rule).
 * With rounds of the default size, of 5 rows per rank (units across rounds, units longer than
 * a round) and of 1 row, every recorded projection's rows must be exactly its synapses in the
 * order cl_edge_gen draws them (units in order; node ids, weights as stored, delays in ms),
 * with edge_type_id its index, edge_group_id 0 and edge_group_index the row; the unrecorded
 * projections must be absent. Runs at 1 rank (unit.test_edges) and 2-4 (mpi.edges.N); writes
 * under argv[1] (default: test_edges_out in the working directory). */
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "condlif/edges.h"
#include "condlif/error.h"
#include "condlif/network.h"
#include "condlif/synapses.h"

#include "check.h"

static int rank_;

/* Reads dataset path of file f into a new array of n elements of type mem (of size bytes). */
static void *read_ds(hid_t f, const char *path, hid_t mem, size_t size, size_t *n) {
  hid_t ds = H5Dopen2(f, path, H5P_DEFAULT);
  if (ds < 0) {
    *n = 0;
    return NULL;
  }
  hid_t sp = H5Dget_space(ds);
  *n = (size_t)H5Sget_simple_extent_npoints(sp);
  void *buf = malloc((*n ? *n : 1) * size);
  if (H5Dread(ds, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0)
    *n = SIZE_MAX;
  H5Sclose(sp);
  H5Dclose(ds);
  return buf;
}

/* Rank 0: the file against the synapses drawn again unit by unit. */
static void check_file(const char *path, const cl_config *cfg, const char *what) {
  hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  CHECK_MSG(f >= 0, "%s: cannot open %s", what, path);
  if (f < 0)
    return;
  cl_edge_gen *gen = NULL;
  CHECK_MSG(cl_edge_gen_open(&gen, cfg) == CL_OK, "%s", cl_error_message());
  for (size_t j = 0; gen && j < cfg->n_projections; j++) {
    const cl_projection_config *pc = &cfg->projections[j];
    char p[300];
    snprintf(p, sizeof p, "/edges/%s", pc->name);
    const htri_t there = H5Lexists(f, "/edges", H5P_DEFAULT) > 0 ? H5Lexists(f, p, H5P_DEFAULT) : 0;
    CHECK_MSG((there > 0) == (pc->record_edges != 0), "%s: %s %s", what, p,
              pc->record_edges ? "missing" : "written but not recorded");
    if (there <= 0)
      continue;
    static const char *const names[7] = {"source_node_id", "target_node_id",   "edge_type_id",
                                         "edge_group_id",  "edge_group_index", "0/syn_weight",
                                         "0/delay"};
    const hid_t types[7] = {H5T_NATIVE_UINT64, H5T_NATIVE_UINT64, H5T_NATIVE_INT64,
                            H5T_NATIVE_UINT32, H5T_NATIVE_UINT64, H5T_NATIVE_DOUBLE,
                            H5T_NATIVE_DOUBLE};
    void *col[7];
    size_t n[7];
    for (int k = 0; k < 7; k++) {
      char q[320];
      snprintf(q, sizeof q, "%s/%s", p, names[k]);
      col[k] = read_ds(f, q, types[k], H5Tget_size(types[k]), &n[k]);
    }
    const uint64_t *src = col[0], *tgt = col[1], *index = col[4];
    const int64_t *type = col[2];
    const uint32_t *group = col[3];
    const double *w = col[5], *d = col[6];
    int ok = 1;
    for (int k = 1; k < 7; k++)
      ok &= n[k] == n[0] && n[k] != SIZE_MAX;
    CHECK_MSG(ok && src && tgt && type && group && index && w && d,
              "%s: %s: datasets unreadable "
              "or of different lengths",
              what, p);
    const int by_source = cl_edge_by_source(cfg, j);
    const cl_population_config *up = &cfg->populations[by_source ? pc->source : pc->target];
    const uint64_t s0 = cfg->populations[pc->source].first_gid,
                   t0 = cfg->populations[pc->target].first_gid;
    size_t row = 0, wrong = 0, first_wrong = SIZE_MAX;
    for (uint64_t u = 0; ok && u < up->size; u++) {
      const cl_edge *e;
      size_t m;
      CHECK_MSG(cl_edge_gen_unit(gen, j, u, 1, &e, &m) == CL_OK, "%s", cl_error_message());
      for (size_t i = 0; i < m; i++, row++) {
        int bad = row >= n[0] || src[row] != e[i].source - s0 || tgt[row] != e[i].target - t0 ||
                  w[row] != (double)e[i].weight || d[row] != (double)e[i].delay * cfg->sim.dt ||
                  type[row] != (int64_t)j || group[row] != 0 || index[row] != row;
        wrong += bad;
        if (bad && first_wrong == SIZE_MAX)
          first_wrong = row;
      }
    }
    CHECK_MSG(!ok || (row == n[0] && wrong == 0),
              "%s: %s: %zu rows, %zu drawn, %zu differ (the "
              "first at %zu)",
              what, p, n[0], row, wrong, first_wrong);
    for (int k = 0; k < 7; k++)
      free(col[k]);
  }
  cl_edge_gen_close(&gen);
  H5Fclose(f);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const char *base = argc > 1 ? argv[1] : "test_edges_out";
  cl_config cfg;
  int st = cl_config_load(CL_SOURCE_DIR "/tests/engine/edges.cfg", NULL, 0, 0, &cfg);
  CHECK_MSG(st == CL_OK, "%s", cl_error_message());
  cl_network net;
  cl_synapses syn;
  if (st == CL_OK)
    st = cl_network_create(&net, &cfg, rank_, size);
  if (st == CL_OK)
    st = cl_synapses_build(&syn, &cfg, &net, MPI_COMM_WORLD);
  CHECK_MSG(st == CL_OK, "%s", cl_error_message());
  const uint64_t rounds[3] = {0, 5, 1};
  for (int k = 0; k < 3 && st == CL_OK; k++) {
    cl_edges_set_round(rounds[k]);
    char dir[512], what[64];
    snprintf(dir, sizeof dir, "%s/np%d_round%llu", base, size, (unsigned long long)rounds[k]);
    snprintf(what, sizeof what, "%d ranks, rounds of %llu rows", size,
             (unsigned long long)rounds[k]);
    cl_output_edges desc[16];
    size_t n_edges = 0;
    st = cl_edges_describe(&cfg, syn.n_per_projection, MPI_COMM_WORLD, desc, &n_edges);
    CHECK_MSG(st == CL_OK && n_edges == 7, "%s: %zu edge populations", what, n_edges);
    cl_output_desc od = {.dir = dir, .force = 1, .n_edges = n_edges, .edges = desc};
    cl_output *out = NULL;
    if (st == CL_OK)
      st = cl_output_open(&out, MPI_COMM_WORLD, &od);
    if (st == CL_OK)
      st = cl_edges_write(out, &cfg, desc, n_edges, MPI_COMM_WORLD);
    if (out)
      st |= cl_output_close(&out);
    CHECK_MSG(st == CL_OK, "%s: %s", what, cl_error_message());
    if (st == CL_OK && rank_ == 0) {
      char path[600];
      snprintf(path, sizeof path, "%s/edges.h5", dir);
      check_file(path, &cfg, what);
    }
  }
  cl_edges_set_round(0);
  if (st == CL_OK) {
    cl_synapses_destroy(&syn);
    cl_network_destroy(&net);
    cl_config_destroy(&cfg);
  }
  int all = 0;
  MPI_Allreduce(&failures, &all, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  MPI_Finalize();
  if (rank_ == 0)
    printf(all ? "test_edges: %d check(s) failed\n" : "test_edges: all checks passed\n", all);
  return all != 0;
}
