/* Construction of the synapses of every projection on the rank of their targets.
 *
 * Two passes over the same counter-based streams: the first counts synapses per source gid,
 * the second fills them in at their CSR positions (in sorted blocks on large ranks, see
 * flush_block). No list of all synapses is held: peak memory is the final storage and at most
 * 28 MB of block. Streams are keyed by (seed, projection, target
 * gid) for per-target rules and (seed, projection, source gid) for fixed_outdegree, never by
 * the rank. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "condlif/error.h"
#include "condlif/rng.h"
#include "condlif/synapses.h"

typedef struct {
  uint64_t *ids; /* generated gids (sources of one target, or targets of one source) */
  size_t n, cap;
  uint64_t *table; /* open-addressing set for draws without multapses */
  size_t table_cap;
  uint64_t *counts; /* fixed_total_number: synapses per target node */
} scratch;

static int push(scratch *s, uint64_t id) {
  if (s->n == s->cap) {
    size_t cap = s->cap ? 2 * s->cap : 256;
    uint64_t *ids = cl_realloc(s->ids, cap * sizeof *ids);
    CL_ALLOC_CHECK(ids);
    s->ids = ids;
    s->cap = cap;
  }
  s->ids[s->n++] = id;
  return CL_OK;
}

/* Set of drawn indices for draws without replacement: returns 1 when x was new. */
static int set_insert(scratch *s, uint64_t x, size_t mask) {
  size_t h = (size_t)((x * UINT64_C(0x9E3779B97F4A7C15)) >> 20) & mask;
  while (s->table[h] != UINT64_MAX) {
    if (s->table[h] == x)
      return 0;
    h = (h + 1) & mask;
  }
  s->table[h] = x;
  return 1;
}

static int set_reset(scratch *s, uint64_t k, size_t *mask) {
  size_t cap = 16;
  while (cap < 2 * k)
    cap *= 2;
  if (cap > s->table_cap) {
    uint64_t *t = cl_realloc(s->table, cap * sizeof *t);
    CL_ALLOC_CHECK(t);
    s->table = t;
    s->table_cap = cap;
  }
  memset(s->table, 0xff, cap * sizeof *s->table);
  *mask = cap - 1;
  return CL_OK;
}

/* Draws k of the n candidates 0..n-1 (without `skip`, when skip < n), with or without
 * replacement, in generation order; appends first + candidate to s->ids. */
static int draw_k(scratch *s, cl_rng *rng, uint64_t first, uint64_t n, uint64_t skip, uint64_t k,
                  int multapses) {
  uint64_t pool = skip < n ? n - 1 : n;
  if (k == 0)
    return CL_OK;
  if (pool == 0)
    return CL_ERROR(CL_ERR_INTERNAL, "cannot draw %llu connections from an empty pool",
                    (unsigned long long)k);
  if (multapses) {
    for (uint64_t i = 0; i < k; i++) {
      uint64_t c = cl_rng_below(rng, pool);
      CL_CALL(push(s, first + (c >= skip ? c + 1 : c)));
    }
    return CL_OK;
  }
  if (k > pool)
    return CL_ERROR(CL_ERR_INTERNAL, "%llu distinct connections from a pool of %llu",
                    (unsigned long long)k, (unsigned long long)pool);
  if (2 * k > pool) {
    /* Selection sampling (Knuth's algorithm S): one pass, in order. */
    uint64_t need = k;
    for (uint64_t c = 0; c < pool && need > 0; c++) {
      if ((double)(pool - c) * cl_rng_uniform(rng) < (double)need) {
        CL_CALL(push(s, first + (c >= skip ? c + 1 : c)));
        need--;
      }
    }
    return CL_OK;
  }
  size_t mask;
  CL_CALL(set_reset(s, k, &mask));
  for (uint64_t got = 0; got < k;) {
    uint64_t c = cl_rng_below(rng, pool);
    if (set_insert(s, c, mask)) {
      CL_CALL(push(s, first + (c >= skip ? c + 1 : c)));
      got++;
    }
  }
  return CL_OK;
}

/* Sources of target gid t (node tn of the target population) under projection pc. */
static int sources_of(scratch *s, const cl_config *cfg, size_t j, uint64_t t, uint64_t tn) {
  const cl_projection_config *pc = &cfg->projections[j];
  const cl_population_config *src = &cfg->populations[pc->source];
  uint64_t first = src->first_gid, ns = src->size;
  uint64_t skip = (pc->source == pc->target && !pc->allow_autapses) ? tn : UINT64_MAX;
  cl_rng rng;
  cl_rng_init(&rng, cfg->sim.seed, CL_RNG_CONNECT + j, t, 0);
  s->n = 0;
  switch (pc->rule) {
  case CL_RULE_ONE_TO_ONE:
    if (tn < ns && tn != skip)
      CL_CALL(push(s, first + tn));
    return CL_OK;
  case CL_RULE_ALL_TO_ALL:
    for (uint64_t i = 0; i < ns; i++)
      if (i != skip)
        CL_CALL(push(s, first + i));
    return CL_OK;
  case CL_RULE_PAIRWISE_BERNOULLI: {
    if (pc->p <= 0.0)
      return CL_OK;
    if (pc->p >= 1.0) {
      for (uint64_t i = 0; i < ns; i++)
        if (i != skip)
          CL_CALL(push(s, first + i));
      return CL_OK;
    }
    /* Geometric skipping: the gap to the next chosen source is Geometric(p). */
    double lq = log1p(-pc->p);
    double pos = -1.0;
    for (;;) {
      pos += 1.0 + floor(log(cl_rng_uniform_pos(&rng)) / lq);
      if (pos >= (double)ns)
        break;
      uint64_t i = (uint64_t)pos;
      if (i != skip)
        CL_CALL(push(s, first + i));
    }
    return CL_OK;
  }
  case CL_RULE_FIXED_INDEGREE:
    return draw_k(s, &rng, first, ns, skip, pc->k, pc->allow_multapses);
  case CL_RULE_FIXED_TOTAL_NUMBER:
    return draw_k(s, &rng, first, ns, skip, s->counts[tn], 1);
  case CL_RULE_FIXED_OUTDEGREE:
    break;
  }
  return CL_ERROR(CL_ERR_INTERNAL, "rule %d is not a per-target rule", (int)pc->rule);
}

/* Targets (gids) of source gid g (node gn of the source population) under fixed_outdegree. */
static int targets_of(scratch *s, const cl_config *cfg, size_t j, uint64_t g, uint64_t gn) {
  const cl_projection_config *pc = &cfg->projections[j];
  const cl_population_config *tgt = &cfg->populations[pc->target];
  uint64_t skip = (pc->source == pc->target && !pc->allow_autapses) ? gn : UINT64_MAX;
  cl_rng rng;
  cl_rng_init(&rng, cfg->sim.seed, CL_RNG_CONNECT + j, g, 1);
  s->n = 0;
  return draw_k(s, &rng, tgt->first_gid, tgt->size, skip, pc->k, pc->allow_multapses);
}

/* fixed_total_number: synapses per target node, by sequential conditional binomials from
 * one stream of the projection (the same on every rank). */
static int total_counts(scratch *s, const cl_config *cfg, size_t j) {
  const cl_projection_config *pc = &cfg->projections[j];
  uint64_t nt = cfg->populations[pc->target].size;
  free(s->counts);
  s->counts = cl_malloc(nt * sizeof *s->counts);
  CL_ALLOC_CHECK(s->counts);
  cl_rng rng;
  cl_rng_init(&rng, cfg->sim.seed, CL_RNG_TOTAL + j, 0, 0);
  uint64_t left = pc->n;
  for (uint64_t i = 0; i < nt; i++) {
    uint64_t c = i + 1 == nt ? left : cl_rng_binomial(&rng, left, 1.0 / (double)(nt - i));
    s->counts[i] = c;
    left -= c;
  }
  return CL_OK;
}

static int64_t delay_steps(double d, double dt, int64_t lo, int64_t hi) {
  int64_t D = cl_config_delay_to_steps(d, dt); /* the rounding --check uses too */
  if (D < lo)
    D = lo;
  if (hi > 0 && D > hi)
    D = hi;
  return D;
}

/* The bounds on delays in steps that simulation.min_delay and max_delay set (hi 0: none). */
static void delay_limits(const cl_config *cfg, int64_t *lo, int64_t *hi) {
  const double dt = cfg->sim.dt;
  *lo = cfg->sim.min_delay > 0 ? delay_steps(cfg->sim.min_delay, dt, 1, 0) : 1;
  *hi = cfg->sim.max_delay > 0 ? delay_steps(cfg->sim.max_delay, dt, 1, 0) : 0;
}

typedef struct {
  cl_synapses *syn;
  uint64_t *fill;     /* pass 2: next free position per source gid (NULL in pass 1) */
  int64_t d_lo, d_hi; /* user bounds on delays in steps (d_hi 0: none) */
  int64_t d_min, d_max;
  /* pass 2: where delays go (one delay per source, or 1 or 2 bytes per synapse) */
  uint16_t *row_delay;
  uint8_t *d8;
  uint16_t *d16;
  uint8_t *entry_of; /* pass 2: each projection's entry in the weight table */
  /* pass 2, blocked (see flush_block): synapses as source << 32 | target word, with their
   * weights and delays when stored per synapse (two buffers each: the sort's passes) */
  uint64_t *blk[2];
  float *blk_w[2];
  uint16_t *blk_d[2];
  size_t blk_n, blk_cap;
} builder;

/* Pass 2 in blocks. Written one by one, the synapses of consecutive targets go to random
 * places of the synapse arrays (their sources' rows): at N = 10^6 (80 M synapses, 320 MB of
 * target words) each store missed cache and TLB, and those stores were most of the
 * construction time. When gids fit 32 bits, pass 2 collects blk_cap synapses as (source, word,
 * weight, delay), sorts the block by source, stably (generation order within a source is
 * kept: the block holds consecutive synapses), and appends each source's run at its fill
 * position: the stores then run through the arrays in address order. */
static void flush_block(builder *b) {
  const size_t n = b->blk_n;
  if (n == 0)
    return;
  uint64_t *a = b->blk[0], *t = b->blk[1];
  float *aw = b->blk_w[0], *tw = b->blk_w[1];
  uint16_t *ad = b->blk_d[0], *td = b->blk_d[1];
  /* LSD radix sort on the source (bits 32 and up), 11 bits per pass */
  unsigned bits = 0;
  while (bits < 32 && (b->syn->n_gids - 1) >> bits)
    bits++;
  for (unsigned shift = 32; shift < 32 + bits; shift += 11) {
    size_t count[2048] = {0};
    for (size_t i = 0; i < n; i++)
      count[(a[i] >> shift) & 2047]++;
    size_t sum = 0;
    for (size_t d = 0; d < 2048; d++) {
      size_t c = count[d];
      count[d] = sum;
      sum += c;
    }
    for (size_t i = 0; i < n; i++) {
      const size_t k = count[(a[i] >> shift) & 2047]++;
      t[k] = a[i];
      if (aw)
        tw[k] = aw[i];
      if (ad)
        td[k] = ad[i];
    }
    uint64_t *x = a;
    a = t;
    t = x;
    float *xw = aw;
    aw = tw;
    tw = xw;
    uint16_t *xd = ad;
    ad = td;
    td = xd;
  }
  cl_synapses *syn = b->syn;
  uint64_t *fill = b->fill;
  for (size_t i = 0; i < n; i++) {
    const uint64_t k = fill[a[i] >> 32]++;
    syn->target[k] = (uint32_t)a[i];
    if (aw)
      syn->weight[k] = aw[i];
    if (b->d8)
      b->d8[k] = (uint8_t)ad[i];
    else if (b->d16)
      b->d16[k] = ad[i];
  }
  b->blk_n = 0;
}

/* Records synapse source -> local target L of projection j; weight and delay from rng. */
static void add_synapse(builder *b, const cl_config *cfg, const cl_projection_config *pc,
                        uint64_t source, uint64_t L, cl_rng *wrng) {
  if (!b->fill) {
    b->syn->row[source + 1]++;
    return;
  }
  double w = cl_dist_draw(&pc->weight, wrng);
  double d = cl_dist_draw(&pc->delay, wrng);
  int64_t D = delay_steps(d, cfg->sim.dt, b->d_lo, b->d_hi);
  const cl_weight_table *tab = &b->syn->table;
  const uint32_t word = (uint32_t)b->entry_of[pc - cfg->projections] << tab->shift | (uint32_t)L;
  const uint16_t D16 = (uint16_t)(D > 65535 ? 65535 : D);
  if (D < b->d_min)
    b->d_min = D;
  if (D > b->d_max)
    b->d_max = D;
  if (b->blk[0]) { /* blocked */
    const size_t i = b->blk_n++;
    b->blk[0][i] = source << 32 | word;
    if (b->blk_w[0])
      b->blk_w[0][i] = (float)w;
    if (b->blk_d[0])
      b->blk_d[0][i] = D16;
    else
      b->row_delay[source] = D16; /* the same for all of the source's synapses */
    if (b->blk_n == b->blk_cap)
      flush_block(b);
    return;
  }
  uint64_t k = b->fill[source]++;
  b->syn->target[k] = word;
  if (b->syn->weight)
    b->syn->weight[k] = (float)w;
  if (b->row_delay)
    b->row_delay[source] = D16; /* the same for all of the source's synapses */
  else if (b->d8)
    b->d8[k] = (uint8_t)D16;
  else
    b->d16[k] = D16;
}

/* The sources of a target are spread over the whole network, so each synapse is a random
 * access to its source's row count or fill position and, in pass 2, to the arrays. Prefetching
 * the rows of the synapses CL_AHEAD_ROW ahead and then their array slots CL_AHEAD_SLOT ahead
 * overlaps those misses (the fill position of a later synapse is read early, so a multapse
 * in between may shift it by one: the prefetch is then merely a line off). */
#define CL_AHEAD_ROW 16
#define CL_AHEAD_SLOT 8
static inline void prefetch_rows(const builder *b, const scratch *s, size_t i) {
  if (!b->fill) {
    if (i + CL_AHEAD_ROW < s->n)
      __builtin_prefetch(&b->syn->row[s->ids[i + CL_AHEAD_ROW] + 1], 1);
    return;
  }
  if (b->blk[0])
    return; /* the block's stores run in address order */
  if (i + CL_AHEAD_ROW < s->n)
    __builtin_prefetch(&b->fill[s->ids[i + CL_AHEAD_ROW]]);
  if (i + CL_AHEAD_SLOT < s->n) {
    uint64_t k = b->fill[s->ids[i + CL_AHEAD_SLOT]];
    __builtin_prefetch(&b->syn->target[k], 1);
    if (b->syn->weight)
      __builtin_prefetch(&b->syn->weight[k], 1);
  }
}

static int run_pass(builder *b, scratch *s, const cl_config *cfg, const cl_network *net) {
  for (size_t j = 0; j < cfg->n_projections; j++) {
    const cl_projection_config *pc = &cfg->projections[j];
    const cl_pop *tp = &net->pops[pc->target];
    const cl_population_config *tgt = tp->cfg;
    if (pc->rule == CL_RULE_FIXED_OUTDEGREE) {
      const cl_population_config *src = &cfg->populations[pc->source];
      for (uint64_t gn = 0; gn < src->size; gn++) {
        uint64_t g = src->first_gid + gn;
        CL_CALL(targets_of(s, cfg, j, g, gn));
        cl_rng wrng;
        cl_rng_init(&wrng, cfg->sim.seed, CL_RNG_WEIGHT + j, g, 1);
        for (size_t i = 0; i < s->n; i++) {
          uint64_t t = s->ids[i];
          if (cl_gid_rank(t, net->size) == net->rank) {
            add_synapse(b, cfg, pc, g, tp->in_begin + (cl_gid_local(t, net->size) - tp->L_begin),
                        &wrng);
            if (!b->fill)
              b->syn->n_per_projection[j]++;
          } else if (b->fill) {
            /* draw the weight and delay all the same, so the stream stays in step */
            cl_dist_draw(&pc->weight, &wrng);
            cl_dist_draw(&pc->delay, &wrng);
          }
        }
      }
      continue;
    }
    if (pc->rule == CL_RULE_FIXED_TOTAL_NUMBER)
      CL_CALL(total_counts(s, cfg, j));
    for (uint64_t jl = 0; jl < tp->n_local; jl++) {
      uint64_t t = tp->gid0 + jl * (uint64_t)net->size;
      uint64_t tn = t - tgt->first_gid;
      CL_CALL(sources_of(s, cfg, j, t, tn));
      cl_rng wrng;
      cl_rng_init(&wrng, cfg->sim.seed, CL_RNG_WEIGHT + j, t, 0);
      for (size_t i = 0; i < s->n; i++) {
        prefetch_rows(b, s, i);
        add_synapse(b, cfg, pc, s->ids[i], tp->in_begin + jl, &wrng);
      }
      if (!b->fill)
        b->syn->n_per_projection[j] += s->n;
    }
  }
  return CL_OK;
}

/* Tells each source's owner that this rank hosts targets of it; owners record the sets. */
static int build_destinations(cl_synapses *syn, const cl_network *net, MPI_Comm comm) {
  int P = net->size;
  syn->words = (P + 63) / 64;
  syn->dest = cl_calloc(net->n_local * (size_t)syn->words + 1, sizeof *syn->dest);
  int *scount = cl_calloc((size_t)P, sizeof(int)), *rcount = cl_calloc((size_t)P, sizeof(int));
  int *sdispl = cl_calloc((size_t)P + 1, sizeof(int)),
      *rdispl = cl_calloc((size_t)P + 1, sizeof(int));
  uint64_t *sbuf = NULL, *rbuf = NULL;
  int status = (syn->dest && scount && rcount && sdispl && rdispl) ? CL_OK : CL_ERR_MEM;
  size_t nsend = 0;
  if (status == CL_OK) {
    for (uint64_t g = 0; g < syn->n_gids; g++)
      if (syn->row[g + 1] > syn->row[g]) {
        scount[cl_gid_rank(g, P)]++;
        nsend++;
      }
    sbuf = cl_malloc(nsend * sizeof *sbuf);
    if (!sbuf)
      status = CL_ERR_MEM;
  }
  status = cl_error_agree(comm, status);
  if (status == CL_OK) {
    MPI_Alltoall(scount, 1, MPI_INT, rcount, 1, MPI_INT, comm);
    for (int q = 0; q < P; q++) {
      sdispl[q + 1] = sdispl[q] + scount[q];
      rdispl[q + 1] = rdispl[q] + rcount[q];
    }
    int *pos = cl_malloc((size_t)P * sizeof *pos);
    rbuf = cl_malloc((size_t)rdispl[P] * sizeof *rbuf);
    if (!pos || !rbuf)
      status = CL_ERR_MEM;
    if (pos) {
      memcpy(pos, sdispl, (size_t)P * sizeof *pos);
      for (uint64_t g = 0; g < syn->n_gids; g++)
        if (syn->row[g + 1] > syn->row[g])
          sbuf[pos[cl_gid_rank(g, P)]++] = g;
      free(pos);
    }
  }
  status = cl_error_agree(comm, status);
  if (status == CL_OK) {
    MPI_Alltoallv(sbuf, scount, sdispl, MPI_UINT64_T, rbuf, rcount, rdispl, MPI_UINT64_T, comm);
    for (int q = 0; q < P; q++)
      for (int i = rdispl[q]; i < rdispl[q + 1]; i++) {
        uint64_t L = cl_gid_local(rbuf[i], P);
        syn->dest[L * (uint64_t)syn->words + (uint64_t)q / 64] |= UINT64_C(1) << (q % 64);
      }
    syn->dest_all = 1;
    for (uint64_t L = 0; L < net->n_local && syn->dest_all; L++)
      for (int w = 0; w < syn->words; w++) {
        const int bits = P - 64 * w < 64 ? P - 64 * w : 64;
        const uint64_t full = bits == 64 ? ~UINT64_C(0) : (UINT64_C(1) << bits) - 1;
        syn->dest_all &= syn->dest[L * (uint64_t)syn->words + (uint64_t)w] == full;
      }
  }
  free(scount);
  free(rcount);
  free(sdispl);
  free(rdispl);
  free(sbuf);
  free(rbuf);
  return status;
}

/* Whether every delay the config can produce is below 256 steps (d_hi: the user's bound in
 * steps, 0 for none). */
static int delays_fit_byte(const cl_config *cfg, int64_t d_hi) {
  if (d_hi > 0)
    return d_hi < 256;
  for (size_t j = 0; j < cfg->n_projections; j++) {
    const cl_dist *d = &cfg->projections[j].delay;
    double top = d->kind == CL_DIST_CONST ? d->a : d->hi;
    if (!(top / cfg->sim.dt < 255.0))
      return 0;
  }
  return 1;
}

/* Bits for entries 0 .. n - 1 (at least one). */
static unsigned entry_bits(unsigned n) {
  unsigned bits = 1;
  while ((1u << bits) < n)
    bits++;
  return bits;
}

/* The entry of (w, r, tau) in t, added when new; CL_SYN_TABLE_MAX when the table is full. */
static unsigned table_entry(cl_weight_table *t, float w, uint8_t r, double tau) {
  unsigned e = 0;
  while (e < t->n && !(t->w[e] == w && t->receptor[e] == r && t->tau[e] == tau))
    e++;
  if (e == t->n && e < CL_SYN_TABLE_MAX) {
    t->w[e] = w;
    t->receptor[e] = r;
    t->tau[e] = tau;
    t->n++;
  }
  return e;
}

/* Fills t with the distinct (weight, receptor, tau) triples of the projections (with_weights)
 * or their (receptor, tau) pairs (weight 0), each projection's entry into entry_of (if not
 * NULL), the index bits and the distinct decay times. Returns 0 (t left partly filled) when
 * there are more than CL_SYN_TABLE_MAX entries or they leave n_inputs too few bits. */
static int fill_table(const cl_config *cfg, uint64_t n_inputs, int with_weights, cl_weight_table *t,
                      uint8_t *entry_of) {
  memset(t, 0, sizeof *t);
  for (size_t j = 0; j < cfg->n_projections; j++) {
    const cl_projection_config *pc = &cfg->projections[j];
    const cl_neuron_params *tp = &cfg->populations[pc->target].params;
    const uint8_t r = pc->receptor == CL_RECEPTOR_IN;
    unsigned e =
        table_entry(t, with_weights ? (float)pc->weight.a : 0.0f, r, r ? tp->tau_in : tp->tau_ex);
    if (e == CL_SYN_TABLE_MAX)
      return 0;
    if (entry_of)
      entry_of[j] = (uint8_t)e;
  }
  const unsigned bits = entry_bits(t->n);
  if (n_inputs > UINT64_C(1) << (32 - bits))
    return 0;
  t->shift = 32 - bits;
  /* the distinct decay times, in order of first appearance */
  for (unsigned e = 0; e < t->n; e++) {
    unsigned q = 0;
    while (q < e && t->tau[q] != t->tau[e])
      q++;
    t->scale_of[e] = q < e ? t->scale_of[q] : (uint8_t)t->n_scales++;
  }
  return 1;
}

int cl_synapses_weight_table(const cl_config *cfg, uint64_t n_inputs, cl_weight_table *t,
                             uint8_t *entry_of) {
  int constant = 1;
  for (size_t j = 0; j < cfg->n_projections; j++)
    constant &= cfg->projections[j].weight.kind == CL_DIST_CONST;
  if (constant && fill_table(cfg, n_inputs, 1, t, entry_of))
    return 1;
  if (fill_table(cfg, n_inputs, 0, t, entry_of))
    return 0;
  memset(t, 0, sizeof *t);
  return -1;
}

static void free_block(builder *b) {
  for (int q = 0; q < 2; q++) {
    free(b->blk[q]);
    free(b->blk_w[q]);
    free(b->blk_d[q]);
    b->blk[q] = NULL;
    b->blk_w[q] = NULL;
    b->blk_d[q] = NULL;
  }
}

/* Synapses per block of pass 2 (flush_block): 1 M, 16 MB with the sort's second buffer, 28 MB
 * with weights and delays per synapse (at N = 200 000, 16 M synapses: build 0.83 -> 0.59 s,
 * peak RSS 108 -> 116 MB; blocks of 2 M were no faster and took 133 MB, blocks of 0.5 M
 * 0.65-0.94 s). */
static size_t block_synapses = (size_t)1 << 20;
/* Below this many synapses on a rank the arrays stay in cache, stores one by one cost little,
 * and the block's pages would cost more (a 4 KB page fault is 11.5 us on the test VM: N = 4000
 * built in 0.049 s with blocks, 0.030 s without). cl_synapses_set_block lifts it. */
static uint64_t block_min_synapses = UINT64_C(1) << 22;

void cl_synapses_set_block(size_t synapses) {
  block_synapses = synapses;
  block_min_synapses = 0;
}

static int build_local(cl_synapses *syn, const cl_config *cfg, const cl_network *net, scratch *s,
                       builder *b) {
  syn->n_gids = cfg->n_total;
  syn->row = cl_calloc(syn->n_gids + 1, sizeof *syn->row);
  syn->n_per_projection = cl_calloc(cfg->n_projections + 1, sizeof *syn->n_per_projection);
  CL_ALLOC_CHECK(syn->row && syn->n_per_projection);
  b->syn = syn;
  CL_CALL(run_pass(b, s, cfg, net));
  for (uint64_t g = 0; g < syn->n_gids; g++)
    syn->row[g + 1] += syn->row[g];
  syn->n = syn->row[syn->n_gids];
  syn->target = cl_malloc_large(syn->n * sizeof *syn->target);
  b->entry_of = cl_malloc(cfg->n_projections + 1);
  CL_ALLOC_CHECK(b->entry_of);
  const int table = cl_synapses_weight_table(cfg, net->n_inputs, &syn->table, b->entry_of);
  if (table < 0)
    return CL_ERROR(CL_ERR_USER,
                    "%" PRIu64 " neurons on rank %d: too many for the local index beside the "
                    "distinct (receptor, tau) pairs of the projections' targets; use more ranks",
                    net->n_inputs, net->rank);
  if (!table)
    syn->weight = cl_malloc_large(syn->n * sizeof *syn->weight);
  syn->scale = cl_malloc((syn->table.n_scales + 1) * sizeof *syn->scale);
  CL_ALLOC_CHECK(syn->scale);
  for (unsigned e = 0; e < syn->table.n; e++)
    cl_scale_init(&syn->scale[syn->table.scale_of[e]], syn->table.tau[e], cfg->sim.dt);
  /* Delays: one per source when the config gives each source one delay; else one byte per
   * synapse when the config's longest delay allows, else two (narrowed by
   * cl_synapses_finish if the network's longest delay turns out shorter). */
  int ok = 1;
  if (cl_config_single_delay_rows(cfg))
    ok = (b->row_delay = cl_calloc(syn->n_gids + 1, sizeof *b->row_delay)) != NULL;
  else if (delays_fit_byte(cfg, b->d_hi))
    ok = (b->d8 = cl_malloc_large(syn->n * sizeof *b->d8)) != NULL;
  else
    ok = (b->d16 = cl_malloc_large(syn->n * sizeof *b->d16)) != NULL;
  b->fill = cl_malloc(syn->n_gids * sizeof *b->fill);
  CL_ALLOC_CHECK(syn->target && (table || syn->weight) && ok && b->fill);
  memcpy(b->fill, syn->row, syn->n_gids * sizeof *b->fill);
  if (syn->n_gids <= UINT64_C(1) << 32 && syn->n > 0 && syn->n >= block_min_synapses &&
      block_synapses > 0) {
    /* pass 2 in blocks (flush_block); without the memory, synapse by synapse */
    b->blk_cap = syn->n < block_synapses ? (size_t)syn->n : block_synapses;
    int got = 1;
    for (int q = 0; q < 2; q++) {
      b->blk[q] = cl_malloc_large(b->blk_cap * sizeof *b->blk[q]);
      got &= b->blk[q] != NULL;
      if (syn->weight) {
        b->blk_w[q] = cl_malloc_large(b->blk_cap * sizeof *b->blk_w[q]);
        got &= b->blk_w[q] != NULL;
      }
      if (!b->row_delay) {
        b->blk_d[q] = cl_malloc_large(b->blk_cap * sizeof *b->blk_d[q]);
        got &= b->blk_d[q] != NULL;
      }
    }
    if (!got) {
      free_block(b);
      cl_error_clear();
    }
  }
  CL_CALL(run_pass(b, s, cfg, net));
  flush_block(b);
  free(b->fill);
  b->fill = NULL;
  return CL_OK;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

/* Sorts each source's synapses by delay, stably (synapses of equal delay keep their generation
 * order): the delivery then finds a spike's synapses that arrive at a given step as one run.
 * A target's inputs at one grid point all have the same delay from a given spike, so they are
 * still added in the same order on any rank count. Rows are usually sorted already (one delay
 * per projection); the others are sorted through (delay, position) keys. Delays are in d8 or
 * d16 (the other is NULL). */
#define CL_D(k) (d8 ? (uint64_t)d8[k] : (uint64_t)d16[k])
static int row_sorted(const cl_synapses *syn, uint64_t g, const uint8_t *d8, const uint16_t *d16) {
  for (uint64_t k = syn->row[g] + 1; k < syn->row[g + 1]; k++)
    if (CL_D(k) < CL_D(k - 1))
      return 0;
  return 1;
}

static int sort_rows_by_delay(cl_synapses *syn, uint8_t *d8, uint16_t *d16) {
  uint64_t longest = 0; /* the longest unsorted row: the scratch size */
  for (uint64_t g = 0; g < syn->n_gids; g++)
    if (!row_sorted(syn, g, d8, d16) && syn->row[g + 1] - syn->row[g] > longest)
      longest = syn->row[g + 1] - syn->row[g];
  if (longest == 0)
    return CL_OK;
  uint64_t *key = cl_malloc(longest * sizeof *key);
  uint32_t *t = cl_malloc(longest * sizeof *t);
  float *w = syn->weight ? cl_malloc(longest * sizeof *w) : NULL;
  int status = key && t && (w || !syn->weight) ? CL_OK : CL_ERR_MEM;
  for (uint64_t g = 0; status == CL_OK && g < syn->n_gids; g++) {
    if (row_sorted(syn, g, d8, d16))
      continue;
    uint64_t a = syn->row[g], n = syn->row[g + 1] - a;
    for (uint64_t k = 0; k < n; k++)
      key[k] = CL_D(a + k) << 32 | k;
    qsort(key, n, sizeof *key, cmp_u64);
    for (uint64_t k = 0; k < n; k++) {
      uint64_t from = a + (key[k] & UINT32_MAX);
      t[k] = syn->target[from];
      if (w)
        w[k] = syn->weight[from];
    }
    for (uint64_t k = 0; k < n; k++) {
      syn->target[a + k] = t[k];
      if (w)
        syn->weight[a + k] = w[k];
      if (d8)
        d8[a + k] = (uint8_t)(key[k] >> 32);
      else
        d16[a + k] = (uint16_t)(key[k] >> 32);
    }
  }
  free(key);
  free(t);
  free(w);
  return status;
}
#undef CL_D

int cl_synapses_build_local(cl_synapses *syn, const cl_config *cfg, const cl_network *net) {
  memset(syn, 0, sizeof *syn);
  scratch s = {0};
  builder b = {.d_min = INT64_MAX, .d_max = 0};
  delay_limits(cfg, &b.d_lo, &b.d_hi);
  int status = build_local(syn, cfg, net, &s, &b);
  free(s.ids);
  free(s.table);
  free(s.counts);
  free(b.fill);
  free_block(&b);
  free(b.entry_of);
  syn->row_delay = b.row_delay;
  syn->delay8 = b.d8;
  syn->delay16 = b.d16;
  if (status == CL_OK && !syn->row_delay)
    status = sort_rows_by_delay(syn, syn->delay8, syn->delay16);
  if (status == CL_OK) {
    syn->d_min = b.d_min;
    syn->d_max = b.d_max;
    /* CONDLIF_DELIVERY overrides the choice (diagnostics, tests): the results are the same */
    const char *how = getenv("CONDLIF_DELIVERY");
    if (!how || !*how || strcmp(how, "auto") == 0)
      syn->gather = cl_synapses_gather_default(net->n_inputs);
    else if (strcmp(how, "gather") == 0 || strcmp(how, "direct") == 0)
      syn->gather = how[0] == 'g';
    else
      status = CL_ERROR(CL_ERR_USER,
                        "environment variable CONDLIF_DELIVERY=\"%s\": expected auto, gather or "
                        "direct",
                        how);
  }
  if (status != CL_OK)
    cl_synapses_destroy(syn);
  return status;
}

/* Whether every local source's synapses share one delay. */
static int single_delay_rows(const cl_synapses *syn) {
  for (uint64_t g = 0; g < syn->n_gids; g++)
    for (uint64_t k = syn->row[g] + 1; k < syn->row[g + 1]; k++)
      if (cl_synapses_delay(syn, g, k) != cl_synapses_delay(syn, g, k - 1))
        return 0;
  return 1;
}

int cl_synapses_finish(cl_synapses *syn, const cl_config *cfg, const cl_network *net, MPI_Comm comm,
                       int status) {
  double dt = cfg->sim.dt;
  int64_t d_lo = cfg->sim.min_delay > 0 ? delay_steps(cfg->sim.min_delay, dt, 1, 0) : 0;
  status = cl_error_agree(comm, status);
  if (status == CL_OK) {
    int64_t lo = syn->d_min, hi = syn->d_max;
    MPI_Allreduce(&lo, &syn->d_min, 1, MPI_INT64_T, MPI_MIN, comm);
    MPI_Allreduce(&hi, &syn->d_max, 1, MPI_INT64_T, MPI_MAX, comm);
    MPI_Allreduce(&syn->n, &syn->n_global, 1, MPI_UINT64_T, MPI_SUM, comm);
    if (syn->n_global == 0) {
      /* Nothing to deliver: exchange once per millisecond (or per user min delay). */
      syn->d_min = syn->d_max = d_lo > 0 ? d_lo : delay_steps(1.0, dt, 1, 0);
    }
    if (d_lo > 0 && d_lo < syn->d_min)
      syn->d_min = d_lo;
    if (!syn->row_delay && single_delay_rows(syn)) {
      /* The config did not promise it (delays drawn, or rounded to one step): 2 bytes per
       * source instead of 1-2 per synapse all the same. */
      uint16_t *rd = cl_calloc(syn->n_gids + 1, sizeof *rd);
      if (rd) {
        for (uint64_t g = 0; g < syn->n_gids; g++)
          if (syn->row[g] < syn->row[g + 1])
            rd[g] = (uint16_t)cl_synapses_delay(syn, g, syn->row[g]);
        free(syn->delay8);
        free(syn->delay16);
        syn->delay8 = NULL;
        syn->delay16 = NULL;
        syn->row_delay = rd;
      } else {
        status = CL_ERR_MEM;
      }
    } else if (syn->delay16 && syn->d_max < 256 && syn->n > 0) {
      /* Narrowed in place (byte k is written after bytes 2k and 2k + 1 were read; character
       * access may alias), then shrunk: no second array at the peak of construction. */
      uint8_t *d8 = (uint8_t *)syn->delay16;
      for (uint64_t k = 0; k < syn->n; k++) {
        uint16_t d = syn->delay16[k];
        d8[k] = (uint8_t)d;
      }
      uint8_t *shrunk = realloc(d8, syn->n);
      syn->delay8 = shrunk ? shrunk : d8;
      syn->delay16 = NULL;
    }
  }
  status = cl_error_agree(comm, status);
  if (status == CL_OK)
    status = build_destinations(syn, net, comm);
  if (status != CL_OK) {
    cl_error_trace(__FILE__, __LINE__, __func__);
    cl_synapses_destroy(syn);
  }
  return status;
}

int cl_synapses_build(cl_synapses *syn, const cl_config *cfg, const cl_network *net,
                      MPI_Comm comm) {
  int status = cl_synapses_build_local(syn, cfg, net);
  return cl_synapses_finish(syn, cfg, net, comm, status);
}

/* ---- the synapses one by one, for writing them out -------------------------------------- */

struct cl_edge_gen {
  const cl_config *cfg;
  scratch s;
  int64_t d_lo, d_hi;
  size_t counts_of; /* the projection s.counts belongs to (fixed_total_number), or SIZE_MAX */
  cl_edge *edges;
  size_t cap;
};

int cl_edge_gen_open(cl_edge_gen **out, const cl_config *cfg) {
  cl_edge_gen *g = cl_calloc(1, sizeof *g);
  *out = g;
  CL_ALLOC_CHECK(g);
  g->cfg = cfg;
  g->counts_of = SIZE_MAX;
  delay_limits(cfg, &g->d_lo, &g->d_hi);
  return CL_OK;
}

void cl_edge_gen_close(cl_edge_gen **g) {
  if (!*g)
    return;
  free((*g)->s.ids);
  free((*g)->s.table);
  free((*g)->s.counts);
  free((*g)->edges);
  free(*g);
  *g = NULL;
}

int cl_edge_gen_unit(cl_edge_gen *g, size_t j, uint64_t u, int draw, const cl_edge **edges,
                     size_t *n) {
  const cl_config *cfg = g->cfg;
  const cl_projection_config *pc = &cfg->projections[j];
  const int by_source = pc->rule == CL_RULE_FIXED_OUTDEGREE;
  const uint64_t unit_gid = cfg->populations[by_source ? pc->source : pc->target].first_gid + u;
  scratch *s = &g->s;
  *edges = NULL;
  *n = 0;
  if (by_source) {
    CL_CALL(targets_of(s, cfg, j, unit_gid, u));
  } else {
    if (pc->rule == CL_RULE_FIXED_TOTAL_NUMBER && g->counts_of != j) {
      CL_CALL(total_counts(s, cfg, j));
      g->counts_of = j;
    }
    CL_CALL(sources_of(s, cfg, j, unit_gid, u));
  }
  *n = s->n;
  if (!draw)
    return CL_OK;
  if (s->n > g->cap) {
    size_t cap = s->n > 2 * g->cap ? s->n : 2 * g->cap;
    cl_edge *e = cl_realloc(g->edges, cap * sizeof *e);
    CL_ALLOC_CHECK(e);
    g->edges = e;
    g->cap = cap;
  }
  /* the draws of run_pass: one stream per unit, weight then delay per synapse in order */
  cl_rng wrng;
  cl_rng_init(&wrng, cfg->sim.seed, CL_RNG_WEIGHT + j, unit_gid, by_source);
  for (size_t i = 0; i < s->n; i++) {
    cl_edge *e = &g->edges[i];
    e->source = by_source ? unit_gid : s->ids[i];
    e->target = by_source ? s->ids[i] : unit_gid;
    e->weight = (float)cl_dist_draw(&pc->weight, &wrng);
    e->delay = delay_steps(cl_dist_draw(&pc->delay, &wrng), cfg->sim.dt, g->d_lo, g->d_hi);
  }
  *edges = g->edges;
  return CL_OK;
}
