/* edges.h5: the synapses of the projections that record them (see edges.h). */
#include "condlif/edges.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "condlif/error.h"
#include "condlif/network.h"
#include "condlif/synapses.h"

int cl_edges_describe(const cl_config *cfg, const uint64_t *local_per_projection, MPI_Comm comm,
                      cl_output_edges *desc, size_t *n) {
  *n = 0;
  if (cfg->n_projections == 0)
    return CL_OK;
  uint64_t *total = cl_malloc(cfg->n_projections * sizeof *total);
  int st = total ? CL_OK : CL_ERR_MEM;
  if ((st = cl_error_agree(comm, st)) != CL_OK) {
    free(total);
    return st;
  }
  MPI_Allreduce(local_per_projection, total, (int)cfg->n_projections, MPI_UINT64_T, MPI_SUM, comm);
  for (size_t j = 0; j < cfg->n_projections; j++) {
    const cl_projection_config *pc = &cfg->projections[j];
    if (!pc->record_edges)
      continue;
    desc[(*n)++] = (cl_output_edges){.name = pc->name,
                                     .source = cfg->populations[pc->source].name,
                                     .target = cfg->populations[pc->target].name,
                                     .receptor = cl_receptor_name(pc->receptor),
                                     .rule = cl_rule_name(pc->rule),
                                     .by_source = cl_edge_by_source(cfg, j),
                                     .type_id = (int64_t)j,
                                     .n = total[j]};
  }
  free(total);
  return CL_OK;
}

static uint64_t round_rows_per_rank = CL_EDGES_ROUND;

void cl_edges_set_round(uint64_t rows) {
  round_rows_per_rank = rows ? rows : CL_EDGES_ROUND;
}

/* A row on its way to the rank that writes it. */
typedef struct {
  uint64_t pos;            /* row in the edge population */
  uint64_t source, target; /* node ids */
  double weight, delay;    /* nS, ms */
} row;

/* First row of rank r's block of m rows: floor(m r / P) without overflow. */
static uint64_t block_start(uint64_t m, int P, int r) {
  return m / (uint64_t)P * (uint64_t)r + m % (uint64_t)P * (uint64_t)r / (uint64_t)P;
}

/* The rank whose block of the m rows holds row q. */
static int block_owner(uint64_t m, int P, uint64_t q) {
  int r = (int)((double)q / (double)m * P);
  if (r >= P)
    r = P - 1;
  while (r > 0 && block_start(m, P, r) > q)
    r--;
  while (r + 1 < P && block_start(m, P, r + 1) <= q)
    r++;
  return r;
}

typedef struct {
  MPI_Comm comm;
  int rank, size;
  MPI_Datatype row_type;
  cl_edge_gen *gen;
  uint64_t n_units; /* units of the projection */
  uint64_t *offset; /* [n_units + 1] first row of each unit */
  row *mine, *sorted, *recv;
  size_t cap;                /* rows each of the three holds */
  int *counts;               /* [4 P]: send counts and displacements, receive counts and displs */
  uint64_t *source, *target; /* [cap] the block this rank writes, by column */
  double *weight, *delay;
  unsigned char *seen;
} writer;

/* The units of this rank: u = first + k P for k = 0, 1, ... (u < n_units), where first is the
 * first unit whose gid is on this rank. */
static uint64_t first_unit(const writer *w, uint64_t first_gid) {
  uint64_t P = (uint64_t)w->size, r = (uint64_t)w->rank;
  return (r + P - first_gid % P) % P;
}

#define GROW(p, n)                                                                                 \
  do {                                                                                             \
    void *q_ = cl_realloc((p), (n) * sizeof *(p));                                                 \
    CL_ALLOC_CHECK(q_);                                                                            \
    (p) = q_;                                                                                      \
  } while (0)

/* Room for n rows in each buffer. */
static int reserve(writer *w, size_t n) {
  if (n <= w->cap)
    return CL_OK;
  size_t cap = n > 2 * w->cap ? n : 2 * w->cap;
  GROW(w->mine, cap);
  GROW(w->sorted, cap);
  GROW(w->recv, cap);
  GROW(w->source, cap);
  GROW(w->target, cap);
  GROW(w->weight, cap);
  GROW(w->delay, cap);
  GROW(w->seen, cap);
  w->cap = cap;
  return CL_OK;
}

/* The first row of every unit (offset[u]; offset[n_units] is the total) over all ranks: each
 * rank counts its units' rows, and all ranks gather them. Collective. */
static int count_units(writer *w, const cl_config *cfg, size_t j, uint64_t first_gid) {
  const uint64_t P = (uint64_t)w->size, u0 = first_unit(w, first_gid);
  const uint64_t n_mine = u0 < w->n_units ? (w->n_units - u0 + P - 1) / P : 0;
  uint64_t *mine = cl_malloc((n_mine + 1) * sizeof *mine);
  uint64_t *all = cl_malloc((w->n_units + 1) * sizeof *all);
  int *cnt = cl_malloc(2 * P * sizeof *cnt);
  uint64_t *offset = cl_realloc(w->offset, (w->n_units + 1) * sizeof *offset);
  if (offset)
    w->offset = offset;
  int st = mine && all && cnt && offset ? CL_OK : CL_ERR_MEM;
  if (st == CL_OK && w->n_units > (uint64_t)INT32_MAX) /* MPI counts and displacements */
    st = CL_ERROR(CL_ERR_USER, "edges: projection %s has more than 2^31 %s neurons",
                  cfg->projections[j].name, cl_edge_by_source(cfg, j) ? "source" : "target");
  for (uint64_t k = 0; k < n_mine && st == CL_OK; k++) {
    const cl_edge *e;
    size_t n;
    st = cl_edge_gen_unit(w->gen, j, u0 + k * P, 0, &e, &n);
    mine[k] = n;
  }
  if ((st = cl_error_agree(w->comm, st)) == CL_OK) {
    int n = (int)n_mine;
    MPI_Allgather(&n, 1, MPI_INT, cnt, 1, MPI_INT, w->comm);
    for (int r = 0, at = 0; r < w->size; r++) {
      cnt[w->size + r] = at;
      at += cnt[r];
    }
    MPI_Allgatherv(mine, n, MPI_UINT64_T, all, cnt, cnt + w->size, MPI_UINT64_T, w->comm);
    /* rank-major order to unit order (rank r's k-th unit is its first plus k P), then the
     * running sum */
    for (int r = 0; r < w->size; r++) {
      const uint64_t f = ((uint64_t)r + P - first_gid % P) % P;
      for (int k = 0; k < cnt[r]; k++)
        w->offset[f + (uint64_t)k * P + 1] = all[cnt[w->size + r] + k];
    }
    w->offset[0] = 0;
    for (uint64_t u = 0; u < w->n_units; u++)
      w->offset[u + 1] += w->offset[u];
  }
  free(mine);
  free(all);
  free(cnt);
  return st;
}

/* One round: the units [ua, ub) of projection j (edge population e), rows offset[ua] to
 * offset[ub]. Collective. */
static int round_rows(writer *w, cl_output *out, const cl_config *cfg, size_t j, size_t e,
                      uint64_t first_gid, uint64_t ua, uint64_t ub) {
  const cl_projection_config *pc = &cfg->projections[j];
  const uint64_t src0 = cfg->populations[pc->source].first_gid,
                 tgt0 = cfg->populations[pc->target].first_gid;
  const uint64_t P = (uint64_t)w->size, A = w->offset[ua], M = w->offset[ub] - A;
  const double dt = cfg->sim.dt;
  int *sc = w->counts, *sd = sc + w->size, *rc = sd + w->size, *rd = rc + w->size;
  memset(sc, 0, (size_t)w->size * sizeof *sc);
  /* this rank's units of the round, drawn again; each row tagged with its owner */
  uint64_t u = first_unit(w, first_gid);
  if (u < ua)
    u += (ua - u + P - 1) / P * P;
  size_t n = 0;
  int st = CL_OK;
  for (; u < ub && st == CL_OK; u += P) {
    const cl_edge *ed;
    size_t m;
    st = cl_edge_gen_unit(w->gen, j, u, 1, &ed, &m);
    if (st == CL_OK && m != w->offset[u + 1] - w->offset[u])
      st = CL_ERROR(CL_ERR_INTERNAL, "edges: unit %" PRIu64 " of %s drew %zu rows, not %" PRIu64, u,
                    pc->name, m, w->offset[u + 1] - w->offset[u]);
    if (st == CL_OK)
      st = reserve(w, n + m);
    for (size_t i = 0; i < m && st == CL_OK; i++, n++) {
      row *x = &w->mine[n];
      x->pos = w->offset[u] + i;
      x->source = ed[i].source - src0;
      x->target = ed[i].target - tgt0;
      x->weight = (double)ed[i].weight;
      x->delay = (double)ed[i].delay * dt;
      sc[block_owner(M, w->size, x->pos - A)]++;
    }
  }
  const uint64_t b0 = block_start(M, w->size, w->rank),
                 nb = block_start(M, w->size, w->rank + 1) - b0;
  if (st == CL_OK)
    st = reserve(w, nb);
  if (st == CL_OK && (n > (size_t)INT32_MAX || nb > (uint64_t)INT32_MAX))
    st = CL_ERROR(CL_ERR_INTERNAL, "edges: a round of more than 2^31 rows on one rank");
  if ((st = cl_error_agree(w->comm, st)) != CL_OK)
    return st;
  for (int r = 0, at = 0; r < w->size; r++) {
    sd[r] = at;
    at += sc[r];
  }
  for (size_t i = 0; i < n; i++) {
    int r = block_owner(M, w->size, w->mine[i].pos - A);
    w->sorted[sd[r]++] = w->mine[i];
  }
  for (int r = 0; r < w->size; r++)
    sd[r] -= sc[r];
  MPI_Alltoall(sc, 1, MPI_INT, rc, 1, MPI_INT, w->comm);
  int got = 0;
  for (int r = 0; r < w->size; r++) {
    rd[r] = got;
    got += rc[r];
  }
  if ((uint64_t)got != nb)
    st = CL_ERROR(CL_ERR_INTERNAL, "edges: rank %d received %d rows of its block of %" PRIu64,
                  w->rank, got, nb);
  if ((st = cl_error_agree(w->comm, st)) != CL_OK)
    return st;
  MPI_Alltoallv(w->sorted, sc, sd, w->row_type, w->recv, rc, rd, w->row_type, w->comm);
  memset(w->seen, 0, nb);
  for (uint64_t i = 0; i < nb && st == CL_OK; i++) {
    const row *x = &w->recv[i];
    const uint64_t q = x->pos - A - b0;
    if (x->pos < A + b0 || q >= nb || w->seen[q]) {
      st = CL_ERROR(CL_ERR_INTERNAL, "edges: row %" PRIu64 " out of place", x->pos);
      break;
    }
    w->seen[q] = 1;
    w->source[q] = x->source;
    w->target[q] = x->target;
    w->weight[q] = x->weight;
    w->delay[q] = x->delay;
  }
  if ((st = cl_error_agree(w->comm, st)) != CL_OK)
    return st;
  return cl_output_write_edges(out, e, A + b0, (size_t)nb, w->source, w->target, w->weight,
                               w->delay);
}

static int write_projection(writer *w, cl_output *out, const cl_config *cfg, size_t j, size_t e,
                            uint64_t n_rows) {
  const cl_projection_config *pc = &cfg->projections[j];
  const cl_population_config *up =
      &cfg->populations[cl_edge_by_source(cfg, j) ? pc->source : pc->target];
  w->n_units = up->size;
  CL_CALL(count_units(w, cfg, j, up->first_gid));
  int st = w->offset[w->n_units] == n_rows ? CL_OK
                                           : CL_ERROR(CL_ERR_INTERNAL,
                                                      "edges: projection %s has %" PRIu64
                                                      " synapses, but %" PRIu64 " were drawn again",
                                                      pc->name, n_rows, w->offset[w->n_units]);
  CL_CALL(cl_error_agree(w->comm, st));
  const uint64_t most = round_rows_per_rank * (uint64_t)w->size;
  for (uint64_t ua = 0; ua < w->n_units;) {
    uint64_t ub = ua + 1; /* at least one unit, however many rows it has */
    while (ub < w->n_units && w->offset[ub + 1] - w->offset[ua] <= most)
      ub++;
    if (w->offset[ub] > w->offset[ua]) /* (parallel HDF5 fails on writes of nothing at all) */
      CL_CALL(round_rows(w, out, cfg, j, e, up->first_gid, ua, ub));
    ua = ub;
  }
  return CL_OK;
}

int cl_edges_write(cl_output *out, const cl_config *cfg, const cl_output_edges *desc, size_t n,
                   MPI_Comm comm) {
  writer w = {.comm = comm};
  MPI_Comm_rank(comm, &w.rank);
  MPI_Comm_size(comm, &w.size);
  MPI_Type_contiguous((int)sizeof(row), MPI_BYTE, &w.row_type);
  MPI_Type_commit(&w.row_type);
  w.counts = cl_malloc(4 * (size_t)w.size * sizeof *w.counts);
  int st = w.counts ? cl_edge_gen_open(&w.gen, cfg) : CL_ERR_MEM;
  st = cl_error_agree(comm, st);
  for (size_t j = 0, e = 0; j < cfg->n_projections && e < n && st == CL_OK; j++)
    if (cfg->projections[j].record_edges) {
      st = write_projection(&w, out, cfg, j, e, desc[e].n);
      e++;
    }
  if (st == CL_OK)
    st = cl_output_edges_done(out);
  cl_edge_gen_close(&w.gen);
  MPI_Type_free(&w.row_type);
  free(w.counts);
  free(w.offset);
  free(w.mine);
  free(w.sorted);
  free(w.recv);
  free(w.source);
  free(w.target);
  free(w.weight);
  free(w.delay);
  free(w.seen);
  return cl_error_agree(comm, st);
}
