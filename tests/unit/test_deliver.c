/* deliver: cl_synapses_deliver adds every synapse's weight to its target's x at its arrival step,
 * in queue order and each row's stored order, with the gathered path (cl_synapses.gather, taken
 * where rows have one delay) and the direct one alike: both are compared bit for bit after every
 * step with a reference that adds the same products synapse by synapse, for each storage of
 * weights (table or per synapse) and delays (one per row, 1 or 2 bytes per synapse), on ranks of
 * P = 1 and 3, with rows longer than the gather buffer. Runs on one process: build_local is not
 * collective. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "condlif/error.h"
#include "condlif/synapses.h"

#include "check.h"
#include "netcfg.h"

/* One synapse's add, for the reference. */
typedef struct {
  uint32_t target;
  int receptor;
  double add;
} event;

typedef struct {
  event *e;
  size_t n, cap;
} bucket;

static uint64_t lcg(uint64_t *s) {
  *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
  return *s >> 11;
}

/* Delivers n_steps steps of random spikes (every gid fires with probability 1/every per step)
 * on rank r of P, three ways, and compares x after every step. */
static void run_case(const cl_config *cfg, int r, int P, int64_t n_steps, uint64_t every,
                     const char *what, int expect_weights, int expect_delay, uint64_t ring_max) {
  cl_network net;
  cl_synapses syn;
  CHECK_MSG(cl_network_create(&net, cfg, r, P) == CL_OK, "%s", cl_error_message());
  CHECK_MSG(cl_synapses_build_local(&syn, cfg, &net) == CL_OK, "%s", cl_error_message());
  CHECK_MSG((syn.weight != NULL) == expect_weights, "%s: weights %s", what,
            syn.weight ? "per synapse" : "in the table");
  const int delay = syn.row_delay ? 0 : syn.delay8 ? 1 : 2;
  CHECK_MSG(delay == expect_delay, "%s: delay storage %d, expected %d", what, delay, expect_delay);
  uint64_t longest = 0;
  for (uint64_t g = 0; g < syn.n_gids; g++)
    if (syn.row[g + 1] - syn.row[g] > longest)
      longest = syn.row[g + 1] - syn.row[g];
  CHECK_MSG(P > 1 || longest > 2048, "%s: the longest row has %llu synapses", what,
            (unsigned long long)longest);
  const size_t n_in = net.n_inputs;
  double *x[2][2], *ref[2];
  for (int q = 0; q < 2; q++) {
    ref[q] = calloc(n_in + 1, sizeof(double));
    for (int m = 0; m < 2; m++)
      x[m][q] = calloc(n_in + 1, sizeof(double));
  }
  cl_spike_queue queue[2] = {{.ring_max = ring_max}, {.ring_max = ring_max}};
  /* the ring: a bucket per step of the arrivals in transit where rows have one delay */
  uint64_t ring = 1;
  while (syn.row_delay && ring < (uint64_t)syn.d_max + 2 && ring < (ring_max ? ring_max : 65536))
    ring *= 2;
  const int64_t horizon = n_steps + syn.d_max + 2;
  bucket *due = calloc((size_t)horizon, sizeof *due);
  uint64_t *spikes = malloc(syn.n_gids * sizeof *spikes);
  uint64_t seed = 0x9e3779b97f4a7c15ULL ^ (uint64_t)r;
  size_t mismatches = 0, events = 0;
  for (int64_t step = 0; step < n_steps; step++) {
    /* the spikes of step - 1 (their synapses arrive at step + 1 at the earliest) */
    if (step > 0) {
      size_t n = 0;
      for (uint64_t g = 0; g < syn.n_gids; g++)
        if (lcg(&seed) % every == 0)
          spikes[n++] = g;
      for (int m = 0; m < 2; m++)
        cl_synapses_enqueue(&syn, &queue[m], spikes, n, step - 1);
      for (size_t i = 0; i < n; i++)
        for (uint64_t k = syn.row[spikes[i]]; k < syn.row[spikes[i] + 1]; k++) {
          const int64_t at = step + cl_synapses_delay(&syn, spikes[i], k);
          const unsigned e = syn.target[k] >> syn.table.shift;
          const double mul = cl_scale_w(&syn.scale[syn.table.scale_of[e]], at);
          bucket *b = &due[at];
          if (b->n == b->cap)
            b->e = realloc(b->e, (b->cap = 2 * b->cap + 16) * sizeof *b->e);
          b->e[b->n++] = (event){cl_synapses_local(&syn, k), cl_synapses_receptor(&syn, k),
                                 mul * (double)cl_synapses_weight(&syn, k)};
        }
    }
    for (size_t j = 0; j < due[step].n; j++)
      ref[due[step].e[j].receptor][due[step].e[j].target] += due[step].e[j].add;
    events += due[step].n;
    for (int m = 0; m < 2; m++) {
      syn.gather = m;
      cl_synapses_deliver(&syn, &queue[m], x[m][0], x[m][1], step);
    }
    for (int m = 0; m < 2; m++)
      for (int q = 0; q < 2; q++)
        mismatches += memcmp(x[m][q], ref[q], n_in * sizeof(double)) != 0;
    CHECK_MSG(queue[0].n == queue[1].n, "%s: step %lld: %zu and %zu spikes queued", what,
              (long long)step, queue[0].n, queue[1].n);
    for (int m = 0; m < 2 && step > 0; m++) {
      size_t in_buckets = 0;
      for (uint64_t b = 0; b <= queue[m].mask; b++)
        in_buckets += queue[m].bucket[b].n;
      CHECK_MSG(queue[m].mask + 1 == ring && in_buckets == queue[m].n,
                "%s: step %lld: ring of %llu buckets holding %zu of %zu spikes (expected %llu)",
                what, (long long)step, (unsigned long long)queue[m].mask + 1, in_buckets,
                queue[m].n, (unsigned long long)ring);
    }
  }
  CHECK_MSG(mismatches == 0, "%s, rank %d of %d: x differs from the reference %zu times", what, r,
            P, mismatches);
  CHECK_MSG(events > 10000, "%s: only %zu synapses arrived", what, events);
  for (int64_t s = 0; s < horizon; s++)
    free(due[s].e);
  free(due);
  free(spikes);
  for (int q = 0; q < 2; q++) {
    free(ref[q]);
    for (int m = 0; m < 2; m++)
      free(x[m][q]);
  }
  cl_spike_queue_destroy(&queue[0]);
  cl_spike_queue_destroy(&queue[1]);
  cl_synapses_destroy(&syn);
  cl_network_destroy(&net);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  /* B has other decay times: the table has entries of two scales per receptor */
  cl_population_config pops[3] = {test_pop("A", CL_MODEL_COND_ALPHA, 2600, 0),
                                  test_pop("B", CL_MODEL_COND_ALPHA, 400, 2600),
                                  test_pop("S", CL_MODEL_POISSON_SOURCE, 5, 3000)};
  pops[1].params.tau_ex = 2.0;
  pops[1].params.tau_in = 7.0;
  enum { NP = 5 };
  cl_projection_config projs[NP] = {
      test_proj(0, 0, CL_RULE_FIXED_INDEGREE, CL_RECEPTOR_EX),
      test_proj(1, 0, CL_RULE_FIXED_INDEGREE, CL_RECEPTOR_IN),
      test_proj(0, 1, CL_RULE_PAIRWISE_BERNOULLI, CL_RECEPTOR_EX),
      test_proj(2, 0, CL_RULE_ALL_TO_ALL, CL_RECEPTOR_EX), /* rows of 2600 */
      test_proj(2, 1, CL_RULE_ALL_TO_ALL, CL_RECEPTOR_IN),
  };
  const double w[NP] = {1.5, 4.0, 2.5, 3.0, 1.0};
  for (int j = 0; j < NP; j++)
    projs[j].weight.a = w[j];
  projs[0].k = 20;
  projs[1].k = 10;
  projs[2].p = 0.02;
  cl_config cfg = test_config(pops, 3, projs, NP, 777);

  static const int ranks[][2] = {{0, 1}, {0, 3}, {2, 3}};
  for (int c = 0; c < 3; c++) {
    const int r = ranks[c][0], P = ranks[c][1];
    /* one delay per row, weights in the table */
    run_case(&cfg, r, P, 200, 40, "table, one delay per row", 0, 0, 0);
    /* per-synapse weights and delays (1 byte); the sources' rows have one delay */
    projs[0].weight = (cl_dist){CL_DIST_UNIFORM, 0.5, 2.5, -INFINITY, INFINITY};
    projs[0].delay = (cl_dist){CL_DIST_UNIFORM, 0.1, 3.0, -INFINITY, INFINITY};
    cfg.sim.max_delay = 3.0; /* (else the delays take 2 bytes until cl_synapses_finish) */
    run_case(&cfg, r, P, 200, 40, "per-synapse weights, 1-byte delays", 1, 1, 0);
    cfg.sim.max_delay = 0;
    /* weights in the table, delays of up to 300 steps (2 bytes), rows of several delays */
    projs[0].weight = (cl_dist){CL_DIST_CONST, 1.5, 0, -INFINITY, INFINITY};
    projs[0].delay = (cl_dist){CL_DIST_UNIFORM, 0.1, 30.0, -INFINITY, INFINITY};
    projs[3].delay = (cl_dist){CL_DIST_UNIFORM, 0.1, 2.0, -INFINITY, INFINITY};
    run_case(&cfg, r, P, 400, 40, "table, 2-byte delays", 0, 2, 0);
    projs[0].delay = projs[3].delay = (cl_dist){CL_DIST_CONST, 1.0, 0, -INFINITY, INFINITY};
    /* per-synapse weights, one delay per row */
    projs[3].weight = (cl_dist){CL_DIST_NORMAL, 3.0, 0.5, 0.1, 6.0};
    run_case(&cfg, r, P, 200, 40, "per-synapse weights, one delay per row", 1, 0, 0);
    projs[3].weight = (cl_dist){CL_DIST_CONST, 3.0, 0, -INFINITY, INFINITY};
    /* rows of one delay, but not the same one (B's 3.5 ms): a ring of 64 buckets, and one of 4
     * where arrivals share a bucket with those of later turns */
    projs[1].delay = (cl_dist){CL_DIST_CONST, 3.5, 0, -INFINITY, INFINITY};
    run_case(&cfg, r, P, 200, 40, "one delay per row, rows of 1 and 3.5 ms", 0, 0, 0);
    run_case(&cfg, r, P, 200, 40, "one delay per row, a ring of 4", 0, 0, 4);
    projs[1].delay = (cl_dist){CL_DIST_CONST, 1.0, 0, -INFINITY, INFINITY};
  }
  /* the default: gather where the x arrays (16 bytes per input) outgrow the L2 cache */
  CHECK(cl_synapses_gather_default(1000) == 0);
  CHECK(cl_synapses_gather_default(UINT64_C(1) << 30) == 1);
  /* CONDLIF_DELIVERY overrides it; another value is an error that names the variable */
  static const char *const how[] = {"gather", "direct", "auto", "", "gathered"};
  for (int j = 0; j < 5; j++) {
    setenv("CONDLIF_DELIVERY", how[j], 1);
    cl_network net;
    cl_synapses syn;
    CHECK(cl_network_create(&net, &cfg, 0, 1) == CL_OK);
    const int st = cl_synapses_build_local(&syn, &cfg, &net);
    if (j < 4)
      CHECK_MSG(st == CL_OK && syn.gather == (j == 0), "CONDLIF_DELIVERY=%s: status %d, gather %d",
                how[j], st, syn.gather);
    else
      CHECK_MSG(st == CL_ERR_USER && strstr(cl_error_message(), "CONDLIF_DELIVERY=\"gathered\"") &&
                    strstr(cl_error_message(), "expected auto, gather or direct"),
                "CONDLIF_DELIVERY=%s: status %d, message %s", how[j], st, cl_error_message());
    if (st == CL_OK)
      cl_synapses_destroy(&syn);
    cl_error_clear();
    cl_network_destroy(&net);
  }
  unsetenv("CONDLIF_DELIVERY");
  MPI_Finalize();
  return failures != 0;
}
