/* Networks built in code (no config file) for the unit tests of construction and delivery:
 * populations with the default neuron parameters and constant initial values, projections with
 * weight 1.5 nS and delay 1 ms, autapses and multapses allowed, and the config around them
 * (dt 0.1 ms, 100 ms). Tests change fields after. */
#ifndef CONDLIF_TESTS_NETCFG_H
#define CONDLIF_TESTS_NETCFG_H

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "condlif/config.h"
#include "condlif/neuron.h"

static inline cl_population_config test_pop(const char *name, cl_model model, uint64_t size,
                                            uint64_t first) {
  cl_population_config p;
  memset(&p, 0, sizeof p);
  snprintf(p.name, sizeof p.name, "%s", name);
  p.model = model;
  p.size = size;
  p.first_gid = first;
  cl_neuron_params_default(&p.params);
  for (int v = 0; v < CL_NVARS; v++)
    p.init[v] = (cl_dist){CL_DIST_CONST, v == 0 ? -70.0 : 0.0, 0, -INFINITY, INFINITY};
  p.rate = 10.0;
  p.stop = INFINITY;
  return p;
}

static inline cl_projection_config test_proj(int s, int t, cl_rule rule, cl_receptor rec) {
  cl_projection_config p;
  memset(&p, 0, sizeof p);
  p.source = s;
  p.target = t;
  p.rule = rule;
  p.receptor = rec;
  p.allow_autapses = 1;
  p.allow_multapses = 1;
  p.weight = (cl_dist){CL_DIST_CONST, 1.5, 0, -INFINITY, INFINITY};
  p.delay = (cl_dist){CL_DIST_CONST, 1.0, 0, -INFINITY, INFINITY};
  return p;
}

/* The config of the populations (in gid order, each first_gid set) and projections given. */
static inline cl_config test_config(cl_population_config *pops, size_t n_pops,
                                    cl_projection_config *projs, size_t n_projs, uint64_t seed) {
  cl_config cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.sim.dt = 0.1;
  cfg.sim.t_stop = 100;
  cfg.sim.seed = seed;
  cfg.n_populations = n_pops;
  cfg.populations = pops;
  cfg.n_projections = n_projs;
  cfg.projections = projs;
  for (size_t i = 0; i < n_pops; i++)
    cfg.n_total += pops[i].size;
  return cfg;
}

#endif
