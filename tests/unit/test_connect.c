/* connect: every rule's statistics, and rank independence of construction: the synapses
 * built for ranks 0..P-1 of P together are exactly (bit for bit, in the same per-target order)
 * those built on one rank, for P = 1..4; and the synapses drawn again one unit at a time for
 * edges.h5 (cl_edge_gen) are the network's. Runs on one process: build_local is not
 * collective. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "condlif/error.h"
#include "condlif/synapses.h"

#include "check.h"
#include "netcfg.h"

typedef struct {
  uint64_t target, source, k;
  int receptor;
  float w;
  int d;
  int proj;
  double tau; /* the decay time of the synapse's table entry (its targets' scale) */
} syn_t;

static int cmp_syn(const void *a, const void *b) {
  const syn_t *x = a, *y = b;
  if (x->target != y->target)
    return x->target < y->target ? -1 : 1;
  if (x->source != y->source)
    return x->source < y->source ? -1 : 1;
  return x->k < y->k ? -1 : x->k > y->k;
}

/* Collects all synapses of the network as built for P ranks. */
static syn_t *collect(const cl_config *cfg, int P, size_t *n_out) {
  size_t n = 0, cap = 1024;
  syn_t *all = malloc(cap * sizeof *all);
  for (int r = 0; r < P; r++) {
    cl_network net;
    cl_synapses syn;
    if (cl_network_create(&net, cfg, r, P) || cl_synapses_build_local(&syn, cfg, &net)) {
      fprintf(stderr, "build failed: %s\n", cl_error_message());
      exit(1);
    }
    /* projection of each synapse: positions per (source) are in projection order */
    for (uint64_t g = 0; g < syn.n_gids; g++) {
      for (uint64_t k = syn.row[g]; k < syn.row[g + 1]; k++) {
        if (n == cap)
          all = realloc(all, (cap *= 2) * sizeof *all);
        uint32_t t = cl_synapses_local(&syn, k);
        int receptor = cl_synapses_receptor(&syn, k);
        uint64_t count = 0; /* ordinal among earlier synapses of the same pair */
        for (uint64_t q = syn.row[g]; q < k; q++)
          count += cl_synapses_local(&syn, q) == t && cl_synapses_receptor(&syn, q) == receptor;
        const uint64_t gid = cl_network_input_gid(&net, t);
        const unsigned e = syn.target[k] >> syn.table.shift;
        all[n++] = (syn_t){.target = gid,
                           .source = g,
                           .k = count,
                           .receptor = receptor,
                           .w = cl_synapses_weight(&syn, k),
                           .d = (int)cl_synapses_delay(&syn, g, k),
                           .tau = syn.table.tau[e]};
        /* the entry's scale is that of the target's receptor: delivery scales x with it */
        const cl_population_config *tp = cfg->populations;
        while (gid >= tp->first_gid + tp->size)
          tp++;
        const double tau = receptor ? tp->params.tau_in : tp->params.tau_ex;
        CHECK_MSG(syn.table.tau[e] == tau && syn.scale[syn.table.scale_of[e]].period > 0 &&
                      syn.scale[syn.table.scale_of[e]].decay[1] == exp(-0.5 * cfg->sim.dt / tau),
                  "synapse %llu -> %llu: entry %u has tau %g, scale of tau %g expected",
                  (unsigned long long)g, (unsigned long long)gid, e, syn.table.tau[e], tau);
      }
    }
    cl_synapses_destroy(&syn);
    cl_network_destroy(&net);
  }
  qsort(all, n, sizeof *all, cmp_syn);
  *n_out = n;
  return all;
}

/* Checks that the network of cfg built for P ranks is the reference (n_ref synapses), synapse
 * for synapse; what names the comparison in messages. */
static void check_same(const syn_t *ref, size_t n_ref, const cl_config *cfg, int P,
                       const char *what) {
  size_t n;
  syn_t *got = collect(cfg, P, &n);
  CHECK_MSG(n == n_ref, "%s, P=%d: %zu synapses, expected %zu", what, P, n, n_ref);
  size_t diff = 0;
  for (size_t i = 0; i < n && i < n_ref; i++)
    diff += got[i].target != ref[i].target || got[i].source != ref[i].source ||
            got[i].k != ref[i].k || got[i].receptor != ref[i].receptor || got[i].w != ref[i].w ||
            got[i].d != ref[i].d || got[i].tau != ref[i].tau;
  CHECK_MSG(diff == 0, "%s, P=%d: %zu synapses differ", what, P, diff);
  free(got);
}

/* Orders synapses by every field (a multiset comparison that ignores k and tau). */
static int cmp_full(const void *a, const void *b) {
  const syn_t *x = a, *y = b;
  if (x->target != y->target)
    return x->target < y->target ? -1 : 1;
  if (x->source != y->source)
    return x->source < y->source ? -1 : 1;
  if (x->receptor != y->receptor)
    return x->receptor - y->receptor;
  if (x->w != y->w)
    return x->w < y->w ? -1 : 1;
  return (x->d > y->d) - (x->d < y->d);
}

/* The synapses as cl_edge_gen draws them again unit by unit (what edges.h5 holds) must be the
 * network as built: the same (target, source, receptor, weight, delay) multiset; counting a
 * unit gives its number of synapses; a per-target unit's synapses all go to it, a per-source
 * unit's all come from it. */
static void check_edge_gen(const cl_config *cfg) {
  size_t n_ref;
  syn_t *ref = collect(cfg, 1, &n_ref);
  syn_t *got = malloc((n_ref + 1) * sizeof *got);
  size_t n = 0, bad_unit = 0, bad_count = 0;
  cl_edge_gen *gen = NULL;
  CHECK_MSG(cl_edge_gen_open(&gen, cfg) == CL_OK, "%s", cl_error_message());
  for (size_t j = 0; gen && j < cfg->n_projections; j++) {
    const cl_projection_config *pc = &cfg->projections[j];
    const int by_source = cl_edge_by_source(cfg, j);
    const cl_population_config *up = &cfg->populations[by_source ? pc->source : pc->target];
    for (uint64_t u = 0; u < up->size; u++) {
      const cl_edge *e;
      size_t m, counted;
      CHECK_MSG(cl_edge_gen_unit(gen, j, u, 0, &e, &counted) == CL_OK, "%s", cl_error_message());
      CHECK_MSG(cl_edge_gen_unit(gen, j, u, 1, &e, &m) == CL_OK, "%s", cl_error_message());
      bad_count += m != counted;
      for (size_t i = 0; i < m && n < n_ref; i++) {
        bad_unit += (by_source ? e[i].source : e[i].target) != up->first_gid + u;
        got[n++] = (syn_t){.target = e[i].target,
                           .source = e[i].source,
                           .receptor = pc->receptor == CL_RECEPTOR_IN,
                           .w = e[i].weight,
                           .d = (int)e[i].delay};
      }
    }
  }
  cl_edge_gen_close(&gen);
  CHECK_MSG(gen == NULL, "cl_edge_gen_close leaves the handle set");
  CHECK_MSG(n == n_ref, "edge generator: %zu synapses, the network %zu", n, n_ref);
  CHECK_MSG(bad_count == 0 && bad_unit == 0,
            "edge generator: %zu counts differ, %zu synapses "
            "outside their unit",
            bad_count, bad_unit);
  for (size_t i = 0; i < n_ref; i++)
    ref[i].k = 0, ref[i].tau = 0;
  qsort(ref, n_ref, sizeof *ref, cmp_full);
  qsort(got, n, sizeof *got, cmp_full);
  size_t diff = 0;
  for (size_t i = 0; i < n && i < n_ref; i++)
    diff += cmp_full(&ref[i], &got[i]) != 0;
  CHECK_MSG(diff == 0, "edge generator: %zu of %zu synapses differ from the network", diff, n);
  free(ref);
  free(got);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  cl_population_config pops[3] = {test_pop("A", CL_MODEL_COND_ALPHA, 50, 0),
                                  test_pop("B", CL_MODEL_COND_ALPHA, 37, 50),
                                  test_pop("S", CL_MODEL_POISSON_SOURCE, 10, 87)};
  enum { NP = 9 };
  cl_projection_config projs[NP] = {
      test_proj(0, 0, CL_RULE_FIXED_INDEGREE, CL_RECEPTOR_EX),
      test_proj(1, 0, CL_RULE_FIXED_INDEGREE, CL_RECEPTOR_IN),
      test_proj(0, 1, CL_RULE_PAIRWISE_BERNOULLI, CL_RECEPTOR_EX),
      test_proj(2, 1, CL_RULE_ALL_TO_ALL, CL_RECEPTOR_EX),
      test_proj(0, 0, CL_RULE_ONE_TO_ONE, CL_RECEPTOR_IN),
      test_proj(1, 1, CL_RULE_FIXED_OUTDEGREE, CL_RECEPTOR_EX),
      test_proj(0, 1, CL_RULE_FIXED_TOTAL_NUMBER, CL_RECEPTOR_IN),
      test_proj(1, 1, CL_RULE_FIXED_INDEGREE, CL_RECEPTOR_EX),
      test_proj(2, 0, CL_RULE_PAIRWISE_BERNOULLI, CL_RECEPTOR_IN),
  };
  projs[0].k = 10; /* A->A: no autapses, no multapses */
  projs[0].allow_autapses = 0;
  projs[0].allow_multapses = 0;
  projs[0].weight = (cl_dist){CL_DIST_UNIFORM, 0.5, 2.5, -INFINITY, INFINITY};
  projs[0].delay = (cl_dist){CL_DIST_UNIFORM, 0.5, 3.0, -INFINITY, INFINITY};
  projs[1].k = 30; /* B->A, 30 of 37 distinct: selection sampling */
  projs[1].allow_multapses = 0;
  projs[2].p = 0.2;
  projs[2].weight = (cl_dist){CL_DIST_NORMAL, 1.0, 0.5, 0.1, 2.0};
  projs[3].delay = (cl_dist){CL_DIST_CONST, 0.1, 0, -INFINITY, INFINITY};
  projs[4].allow_autapses = 1;
  projs[5].k = 5; /* B->B outdegree, no autapses */
  projs[5].allow_autapses = 0;
  projs[5].weight = (cl_dist){CL_DIST_LOGNORMAL, 0.0, 0.3, 0, 0};
  projs[6].n = 400;
  projs[7].k = 7; /* B->B indegree with multapses */
  projs[8].p = 0.5;
  cl_config cfg = test_config(pops, 3, projs, NP, 12345);

  /* Per-rule counts, on one rank. */
  cl_network net;
  cl_synapses syn;
  CHECK_MSG(cl_network_create(&net, &cfg, 0, 1) == CL_OK, "%s", cl_error_message());
  CHECK_MSG(cl_synapses_build_local(&syn, &cfg, &net) == CL_OK, "%s", cl_error_message());
  CHECK_MSG(syn.n_per_projection[0] == 50 * 10, "%llu",
            (unsigned long long)syn.n_per_projection[0]);
  CHECK_MSG(syn.n_per_projection[1] == 50 * 30, "%llu",
            (unsigned long long)syn.n_per_projection[1]);
  double expect = 0.2 * 50 * 37, sd = sqrt(expect * 0.8);
  CHECK_MSG(fabs((double)syn.n_per_projection[2] - expect) < 4 * sd, "bernoulli %llu vs %.0f",
            (unsigned long long)syn.n_per_projection[2], expect);
  CHECK_MSG(syn.n_per_projection[3] == 10 * 37, "all_to_all");
  CHECK_MSG(syn.n_per_projection[4] == 50, "one_to_one");
  CHECK_MSG(syn.n_per_projection[5] == 37 * 5, "outdegree");
  CHECK_MSG(syn.n_per_projection[6] == 400, "total %llu",
            (unsigned long long)syn.n_per_projection[6]);
  CHECK_MSG(syn.n_per_projection[7] == 37 * 7, "indegree multapses");
  /* A->A (projection 0): per target exactly 10 distinct sources, none itself; weights and
   * delays inside their ranges; one_to_one (projection 4) pairs i with i. */
  int indeg[50][50];
  memset(indeg, 0, sizeof indeg);
  int one[50];
  memset(one, 0, sizeof one);
  for (uint64_t g = 0; g < 50; g++)
    for (uint64_t k = syn.row[g]; k < syn.row[g + 1]; k++) {
      uint64_t tg = cl_synapses_local(&syn, k);
      int inh = cl_synapses_receptor(&syn, k);
      if (tg < 50 && !inh) {
        indeg[tg][g]++;
        CHECK_MSG(syn.weight[k] >= 0.5f && syn.weight[k] <= 2.5f, "weight %g", syn.weight[k]);
        int64_t d = cl_synapses_delay(&syn, g, k);
        CHECK_MSG(d >= 5 && d <= 30, "delay %d", (int)d);
      }
      if (tg < 50 && inh)
        one[tg] += (tg == g);
    }
  for (int t = 0; t < 50; t++) {
    int total = 0;
    for (int s = 0; s < 50; s++) {
      CHECK_MSG(indeg[t][s] <= 1, "multapse %d->%d", s, t);
      total += indeg[t][s];
    }
    CHECK_MSG(indeg[t][t] == 0, "autapse at %d", t);
    CHECK_MSG(total == 10, "in-degree of %d is %d", t, total);
    CHECK_MSG(one[t] == 1, "one_to_one at %d", t);
  }
  /* Every source's synapses are sorted by delay (the delivery takes one run per arrival step;
   * projection 0 draws its delays at random, so its rows were not sorted as generated). */
  for (uint64_t g = 0; g < syn.n_gids; g++)
    for (uint64_t k = syn.row[g] + 1; k < syn.row[g + 1]; k++)
      CHECK_MSG(cl_synapses_delay(&syn, g, k - 1) <= cl_synapses_delay(&syn, g, k),
                "row of %llu not sorted by delay at %llu", (unsigned long long)g,
                (unsigned long long)k);
  /* Delays: dt-rounded, at least one step (0.1 ms -> 1 step). */
  for (uint64_t g = 87; g < 97; g++)
    for (uint64_t k = syn.row[g]; k < syn.row[g + 1]; k++)
      if (!cl_synapses_receptor(&syn, k))
        CHECK_MSG(cl_synapses_delay(&syn, g, k) == 1, "delay of S->B %d",
                  (int)cl_synapses_delay(&syn, g, k));
  cl_synapses_destroy(&syn);
  cl_network_destroy(&net);

  /* Rank independence. */
  size_t n1;
  syn_t *ref = collect(&cfg, 1, &n1);
  for (int P = 2; P <= 4; P++)
    check_same(ref, n1, &cfg, P, "against the 1-rank network");
  free(ref);
  check_edge_gen(&cfg);

  /* The weight table. The network above draws weights, so each synapse stores its own (and
   * the table is the two receptors). With every weight a constant, synapses store only their
   * entry in a table of the distinct (weight, receptor) pairs: the same network, for any rank
   * count, as with the same weights stored per synapse (uniform on [w, w], which draws a
   * number but always gives w). Delays are constants here, so the draws shift nothing. */
  CHECK_MSG(syn.weight == NULL && syn.table.n == 0, "destroyed");
  CHECK_MSG(cl_network_create(&net, &cfg, 0, 1) == CL_OK, "%s", cl_error_message());
  CHECK_MSG(cl_synapses_build_local(&syn, &cfg, &net) == CL_OK, "%s", cl_error_message());
  CHECK_MSG(syn.weight != NULL && syn.table.n == 2 && syn.table.shift == 31 &&
                syn.table.receptor[0] == 0 && syn.table.receptor[1] == 1,
            "drawn weights: per synapse, receptor in the top bit");
  cl_synapses_destroy(&syn);
  cl_network_destroy(&net);
  cl_projection_config hom[NP], drawn[NP];
  for (int j = 0; j < NP; j++) {
    hom[j] = projs[j];
    double w = j % 3 == 0 ? 1.5 : j % 3 == 1 ? 0.25 : 4.0; /* 6 distinct (w, receptor) */
    hom[j].weight = (cl_dist){CL_DIST_CONST, w, 0, w, w};
    hom[j].delay = (cl_dist){CL_DIST_CONST, 0.1 * (j + 1), 0, 0.1 * (j + 1), 0.1 * (j + 1)};
    drawn[j] = hom[j];
    drawn[j].weight = (cl_dist){CL_DIST_UNIFORM, w, w, w, w};
  }
  cl_config hcfg = cfg, dcfg = cfg;
  hcfg.projections = hom;
  dcfg.projections = drawn;
  CHECK_MSG(cl_network_create(&net, &hcfg, 0, 1) == CL_OK, "%s", cl_error_message());
  CHECK_MSG(cl_synapses_build_local(&syn, &hcfg, &net) == CL_OK, "%s", cl_error_message());
  CHECK_MSG(syn.weight == NULL && syn.table.n == 6 && syn.table.shift == 29,
            "constant weights: a table of 6 entries in 3 bits (%u entries, shift %u)", syn.table.n,
            syn.table.shift);
  CHECK_MSG(syn.delay8 && cl_synapses_bytes(&syn) == syn.n * 5 + (syn.n_gids + 1) * 8,
            "4 bytes per synapse with the table, and a 1-byte delay");
  cl_synapses_destroy(&syn);
  cl_network_destroy(&net);
  size_t nd;
  syn_t *per_synapse = collect(&dcfg, 1, &nd);
  for (int P = 1; P <= 4; P++)
    check_same(per_synapse, nd, &hcfg, P, "table against weights stored per synapse");
  free(per_synapse);
  /* The table gives way to weights per synapse when its entry leaves too few bits for the
   * local index, or when it would have more than CL_SYN_TABLE_MAX entries. */
  cl_weight_table tab;
  CHECK_MSG(cl_synapses_weight_table(&hcfg, UINT64_C(1) << 29, &tab, NULL) == 1 && tab.shift == 29,
            "2^29 local neurons with 6 entries");
  CHECK_MSG(cl_synapses_weight_table(&hcfg, (UINT64_C(1) << 29) + 1, &tab, NULL) == 0 &&
                tab.n == 2 && tab.shift == 31,
            "2^29 + 1 local neurons with 6 entries");
  enum { NMANY = CL_SYN_TABLE_MAX + 1 };
  cl_projection_config *many = calloc(NMANY, sizeof *many);
  for (int j = 0; j < NMANY; j++) {
    many[j] = hom[0];
    many[j].weight.a = many[j].weight.lo = many[j].weight.hi = 1.0 + j;
  }
  cl_config mcfg = cfg;
  mcfg.projections = many;
  mcfg.n_projections = CL_SYN_TABLE_MAX;
  uint8_t entry_of[NMANY + 1];
  entry_of[NMANY] = 0xa5;
  CHECK_MSG(cl_synapses_weight_table(&mcfg, 1000, &tab, entry_of) == 1 &&
                tab.n == CL_SYN_TABLE_MAX && tab.shift == 24 &&
                entry_of[CL_SYN_TABLE_MAX - 1] == CL_SYN_TABLE_MAX - 1,
            "256 distinct weights: a table in 8 bits");
  /* 257 projections: no table of weights; their (receptor, tau) pair, one for all, is entry 0
   * of each (entry_of has one byte per projection, however many) */
  mcfg.n_projections = NMANY;
  CHECK_MSG(cl_synapses_weight_table(&mcfg, 1000, &tab, entry_of) == 0 && tab.n == 1 &&
                entry_of[NMANY - 1] == 0 && entry_of[NMANY] == 0xa5,
            "257 projections: no table");
  free(many);

  /* Construction's second pass in blocks (flush_block in connect.c): the same rows, synapse
   * for synapse and in the same order, as stored one by one (block 0), for blocks of 1, 7 and
   * 2^20 synapses at 1-4 ranks; with a table of weights and one delay of 1 ms per source
   * (bcfg), and with weights and delays drawn per synapse (cfg). */
  cl_projection_config hom1[NP];
  for (int j = 0; j < NP; j++) {
    hom1[j] = hom[j];
    hom1[j].delay = (cl_dist){CL_DIST_CONST, 1.0, 0, 1.0, 1.0};
  }
  cl_config bcfg = hcfg;
  bcfg.projections = hom1;
  CHECK_MSG(cl_config_single_delay_rows(&bcfg), "one delay per source");
  const size_t blocks[3] = {1, 7, (size_t)1 << 20};
  const cl_config *bcfgs[2] = {&bcfg, &cfg};
  for (int c = 0; c < 2; c++)
    for (int P = 1; P <= 4; P++)
      for (int r = 0; r < P; r++) {
        cl_synapses one, blk;
        CHECK_MSG(cl_network_create(&net, bcfgs[c], r, P) == CL_OK, "%s", cl_error_message());
        cl_synapses_set_block(0);
        CHECK_MSG(cl_synapses_build_local(&one, bcfgs[c], &net) == CL_OK, "%s", cl_error_message());
        CHECK_MSG(c == 0 ? one.weight == NULL && one.row_delay != NULL
                         : one.weight != NULL && (one.delay8 || one.delay16),
                  "%s",
                  c == 0 ? "a table of weights and one delay per source"
                         : "weights and delays per synapse");
        for (int q = 0; q < 3; q++) {
          cl_synapses_set_block(blocks[q]);
          CHECK_MSG(cl_synapses_build_local(&blk, bcfgs[c], &net) == CL_OK, "%s",
                    cl_error_message());
          const size_t n = one.n, g = one.n_gids;
          int same = blk.n == n && memcmp(blk.row, one.row, (g + 1) * sizeof *one.row) == 0 &&
                     memcmp(blk.target, one.target, n * sizeof *one.target) == 0;
          if (same && one.weight)
            same = blk.weight && memcmp(blk.weight, one.weight, n * sizeof *one.weight) == 0;
          if (same && one.row_delay)
            same = blk.row_delay &&
                   memcmp(blk.row_delay, one.row_delay, g * sizeof *one.row_delay) == 0;
          if (same && one.delay8)
            same = blk.delay8 && memcmp(blk.delay8, one.delay8, n) == 0;
          if (same && one.delay16)
            same = blk.delay16 && memcmp(blk.delay16, one.delay16, n * sizeof *one.delay16) == 0;
          CHECK_MSG(same, "%s, P=%d rank %d, blocks of %zu: rows differ from synapse-by-synapse",
                    c == 0 ? "table" : "per synapse", P, r, blocks[q]);
          cl_synapses_destroy(&blk);
        }
        cl_synapses_destroy(&one);
        cl_network_destroy(&net);
      }
  cl_synapses_set_block((size_t)1 << 20);

  /* Targets with different decay times: x is stored scaled by a factor that depends on the
   * target's tau (cl_scale), so table entries are (weight, receptor, tau) and weights per
   * synapse carry a (receptor, tau) entry; collect() checks each synapse's entry against its
   * target's tau. B gets tau_ex 7 ms and A tau_in 3 ms (defaults 0.2 and 2 ms). */
  cl_population_config tpops[3] = {pops[0], pops[1], pops[2]};
  tpops[1].params.tau_ex = 7.0;
  tpops[0].params.tau_in = 3.0;
  cl_config thcfg = hcfg, tdcfg = dcfg;
  thcfg.populations = tdcfg.populations = tpops;
  /* distinct (weight, receptor, tau) and (receptor, tau) among the projections */
  double ptau[NP];
  for (int j = 0; j < NP; j++)
    ptau[j] = hom[j].receptor == CL_RECEPTOR_IN ? tpops[hom[j].target].params.tau_in
                                                : tpops[hom[j].target].params.tau_ex;
  unsigned n_triples = 0, n_pairs = 0;
  for (int j = 0; j < NP; j++) {
    int new_triple = 1, new_pair = 1;
    for (int q = 0; q < j; q++) {
      const int same_pair = hom[q].receptor == hom[j].receptor && ptau[q] == ptau[j];
      new_pair &= !same_pair;
      new_triple &= !(same_pair && hom[q].weight.a == hom[j].weight.a);
    }
    n_triples += new_triple;
    n_pairs += new_pair;
  }
  CHECK_MSG(cl_synapses_weight_table(&thcfg, 1000, &tab, NULL) == 1 && tab.n == n_triples &&
                tab.n_scales == 4,
            "two tau_ex and two tau_in: %u entries (expected %u), %u scales (expected 4)", tab.n,
            n_triples, tab.n_scales);
  CHECK_MSG(cl_synapses_weight_table(&tdcfg, 1000, &tab, NULL) == 0 && tab.n == n_pairs &&
                n_pairs == 4 && tab.shift == 30 && tab.n_scales == 4,
            "weights per synapse: %u (receptor, tau) entries in 2 bits (shift %u)", tab.n,
            tab.shift);
  CHECK_MSG(cl_synapses_weight_table(&tdcfg, UINT64_C(1) << 30, &tab, NULL) == 0 &&
                cl_synapses_weight_table(&tdcfg, (UINT64_C(1) << 30) + 1, &tab, NULL) == -1 &&
                tab.n == 0,
            "weights per synapse: 2^30 local neurons fit beside 4 entries, 2^30 + 1 do not");
  syn_t *tref = collect(&tdcfg, 1, &nd);
  for (int P = 1; P <= 4; P++)
    check_same(tref, nd, &thcfg, P, "two taus: table against weights stored per synapse");
  free(tref);

  /* Delay storage (on one rank, after cl_synapses_finish): one delay per source when every
   * source's synapses share one (case 0), else one byte per synapse, chosen from the config
   * (case 1) or narrowed from two bytes once the drawn delays are known (case 2: the config
   * allows 30 ms = 300 steps, the draws stay near 2 ms). A->B 1 ms, B->A 3 ms, A->A 1 ms, 2.5 ms
   * or normal(2 ms, 0.1 ms). */
  cl_projection_config two[3] = {test_proj(0, 1, CL_RULE_FIXED_INDEGREE, CL_RECEPTOR_EX),
                                 test_proj(0, 0, CL_RULE_FIXED_INDEGREE, CL_RECEPTOR_EX),
                                 test_proj(1, 0, CL_RULE_FIXED_INDEGREE, CL_RECEPTOR_IN)};
  for (int j = 0; j < 3; j++)
    two[j].k = 5;
  two[2].delay.a = 3.0;
  cl_config small = cfg;
  small.n_populations = 2;
  small.n_total = 87;
  small.n_projections = 3;
  small.projections = two;
  for (int c = 0; c < 3; c++) {
    two[1].delay = c == 0   ? (cl_dist){CL_DIST_CONST, 1.0, 0, 1.0, 1.0}
                   : c == 1 ? (cl_dist){CL_DIST_CONST, 2.5, 0, 2.5, 2.5}
                            : (cl_dist){CL_DIST_NORMAL, 2.0, 0.1, 0.1, 30.0};
    CHECK_MSG(cl_network_create(&net, &small, 0, 1) == CL_OK, "%s", cl_error_message());
    CHECK_MSG(cl_synapses_build(&syn, &small, &net, MPI_COMM_SELF) == CL_OK, "%s",
              cl_error_message());
    CHECK_MSG(syn.n == 3 * 5 * 50 - 5 * 13, "%llu synapses", (unsigned long long)syn.n);
    CHECK_MSG(c == 0 ? syn.row_delay != NULL && syn.delay8 == NULL
                     : syn.row_delay == NULL && syn.delay8 != NULL,
              "case %d: delay storage", c);
    CHECK_MSG(syn.delay16 == NULL, "case %d: 2-byte delays", c);
    size_t wrong = 0;
    for (uint64_t g = 0; g < 87; g++)
      for (uint64_t k = syn.row[g]; k < syn.row[g + 1]; k++) {
        int to_a = cl_synapses_local(&syn, k) < 50;
        int64_t d = cl_synapses_delay(&syn, g, k);
        if (g >= 50)
          wrong += d != 30;
        else if (!to_a || c == 0)
          wrong += d != 10;
        else
          wrong += c == 1 ? d != 25 : d < 15 || d > 25;
      }
    CHECK_MSG(wrong == 0, "case %d: %zu synapses with the wrong delay", c, wrong);
    cl_synapses_destroy(&syn);
    cl_network_destroy(&net);
  }
  MPI_Finalize();
  if (failures)
    fprintf(stderr, "test_connect: %d check(s) failed\n", failures);
  else
    printf("test_connect: all checks passed (%zu synapses)\n", n1);
  return failures != 0;
}
