#include "condlif/network.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "condlif/error.h"

void cl_local_range(uint64_t first, uint64_t count, int rank, int size, uint64_t *L_begin,
                    uint64_t *n_local) {
  uint64_t P = (uint64_t)size, r = (uint64_t)rank;
  uint64_t g0 = first + (r + P - first % P) % P; /* first gid >= first owned by rank */
  *L_begin = g0 / P;
  *n_local = g0 < first + count ? (first + count - 1 - g0) / P + 1 : 0;
}

double cl_dist_draw(const cl_dist *d, cl_rng *r) {
  switch (d->kind) {
  case CL_DIST_CONST:
    return d->a;
  case CL_DIST_UNIFORM:
    return d->a + (d->b - d->a) * cl_rng_uniform(r);
  case CL_DIST_NORMAL:
    for (int tries = 0; tries < 1000000; tries++) {
      double v = d->a + d->b * cl_rng_normal(r);
      if (v >= d->lo && v <= d->hi)
        return v;
    }
    /* The config check keeps [lo, hi] within reach; this only guards termination. */
    return fmin(fmax(d->a, d->lo), d->hi);
  case CL_DIST_LOGNORMAL:
    return exp(d->a + d->b * cl_rng_normal(r));
  }
  return d->a;
}

/* The rank's neuron state: one array per variable over the input index space. */
static int setup_state(cl_network *net) {
  cl_neuron_state *st = &net->state;
  CL_CALL(cl_neuron_state_alloc(st, net->n_inputs, cl_neuron_state_resident(net->n_inputs)));
  /* Padding is held for ever (V NaN, t_ref_end +inf: cl_neuron_state): one kernel call over a
   * run of populations (cl_network_kernel_run) steps the padding between them too, whose
   * conductances stay zero and which never spikes. */
  for (size_t p = 0; p < net->n_pops; p++) {
    const cl_pop *pop = &net->pops[p];
    if (pop->cfg->model == CL_MODEL_COND_ALPHA)
      for (uint64_t i = pop->n_local; i < cl_inputs_of(pop->n_local); i++)
        st->V_m[pop->in_begin + i] = NAN;
  }
  return CL_OK;
}

static int setup_neurons(cl_network *net, cl_pop *pop) {
  const cl_population_config *pc = pop->cfg;
  cl_neuron_kernel_init(&pop->kernel, &pc->params, net->cfg->sim.dt);
  const cl_neuron_state *all = &net->state;
  const uint64_t b = pop->in_begin;
  /* (populations start at multiples of 8, cl_inputs_of, so that the groups of tre_min align) */
  double *const tre_min =
      all->tre_min && b % CL_TRE_GROUP == 0 ? all->tre_min + b / CL_TRE_GROUP : NULL;
  pop->state = (cl_neuron_state){.n = pop->n_local,
                                 .V_m = all->V_m + b,
                                 .g_ex = all->g_ex + b,
                                 .x_ex = all->x_ex + b,
                                 .g_in = all->g_in + b,
                                 .x_in = all->x_in + b,
                                 .t_ref_end = all->t_ref_end + b,
                                 .k1 = all->k1 ? all->k1 + b : NULL,
                                 .tre_min = tre_min};
  double *vars[CL_NVARS] = {pop->state.V_m, pop->state.g_ex, pop->state.x_ex, pop->state.g_in,
                            pop->state.x_in};
  for (uint64_t j = 0; j < pop->n_local; j++) {
    uint64_t gid = pop->gid0 + j * (uint64_t)net->size;
    cl_rng rng;
    cl_rng_init(&rng, net->cfg->sim.seed, CL_RNG_INIT + (uint64_t)pop->index, gid, 0);
    for (int v = 0; v < CL_NVARS; v++)
      vars[v][j] = cl_dist_draw(&pc->init[v], &rng);
    /* x is stored times x_unit (cl_scale; step 0 starts an epoch: no other factor) */
    vars[CL_VAR_X_EX][j] *= pop->kernel.scale[0].x_unit;
    vars[CL_VAR_X_IN][j] *= pop->kernel.scale[1].x_unit;
  }
  return CL_OK;
}

/* Interval k of Poisson source gid: an exponential draw from its own stream position. */
static double poisson_interval(const cl_network *net, const cl_pop *pop, uint64_t gid, uint64_t k) {
  cl_rng rng;
  cl_rng_init(&rng, net->cfg->sim.seed, CL_RNG_POISSON_SOURCE + (uint64_t)pop->index, gid, k);
  return cl_rng_exponential(&rng) * 1000.0 / pop->cfg->rate; /* ms */
}

static int setup_poisson(cl_network *net, cl_pop *pop) {
  pop->next_spike = cl_malloc(pop->n_local * sizeof *pop->next_spike);
  pop->draws = cl_malloc(pop->n_local * sizeof *pop->draws);
  CL_ALLOC_CHECK(pop->next_spike && pop->draws);
  for (uint64_t j = 0; j < pop->n_local; j++) {
    uint64_t gid = pop->gid0 + j * (uint64_t)net->size;
    pop->draws[j] = 1;
    pop->next_spike[j] =
        pop->cfg->rate > 0 ? pop->cfg->start + poisson_interval(net, pop, gid, 0) : INFINITY;
  }
  return CL_OK;
}

int cl_network_create(cl_network *net, const cl_config *cfg, int rank, int size) {
  memset(net, 0, sizeof *net);
  net->cfg = cfg;
  net->rank = rank;
  net->size = size;
  net->n_total = cfg->n_total;
  net->n_local = cfg->n_total > (uint64_t)rank
                     ? (cfg->n_total - (uint64_t)rank + (uint64_t)size - 1) / (uint64_t)size
                     : 0;
  net->n_pops = cfg->n_populations;
  net->pops = cl_calloc(net->n_pops, sizeof *net->pops);
  int status = net->pops ? CL_OK : CL_ERR_MEM;
  for (size_t p = 0; p < net->n_pops && status == CL_OK; p++) {
    cl_pop *pop = &net->pops[p];
    pop->cfg = &cfg->populations[p];
    pop->index = (int)p;
    cl_local_range(pop->cfg->first_gid, pop->cfg->size, rank, size, &pop->L_begin, &pop->n_local);
    pop->gid0 = pop->L_begin * (uint64_t)size + (uint64_t)rank;
    if (pop->cfg->model == CL_MODEL_COND_ALPHA) {
      pop->in_begin = net->n_inputs;
      net->n_inputs += cl_inputs_of(pop->n_local);
    }
  }
  if (status == CL_OK)
    status = setup_state(net);
  for (size_t p = 0; p < net->n_pops && status == CL_OK; p++) {
    cl_pop *pop = &net->pops[p];
    switch (pop->cfg->model) {
    case CL_MODEL_COND_ALPHA:
      status = setup_neurons(net, pop);
      break;
    case CL_MODEL_POISSON_SOURCE:
      status = setup_poisson(net, pop);
      break;
    case CL_MODEL_SPIKE_SOURCE:
      pop->cursor = cl_malloc(pop->n_local * sizeof *pop->cursor);
      if (!pop->cursor) {
        status = CL_ERR_MEM;
        break;
      }
      for (uint64_t j = 0; j < pop->n_local; j++)
        pop->cursor[j] = pop->cfg->spike_ptr[pop->gid0 + j * (uint64_t)size - pop->cfg->first_gid];
      break;
    }
    pop->next_due = -INFINITY; /* (sources: scanned at the first step) */
  }
  if (status != CL_OK) {
    cl_error_trace(__FILE__, __LINE__, __func__);
    cl_network_destroy(net);
  }
  return status;
}

uint64_t cl_network_input_gid(const cl_network *net, uint64_t i) {
  for (size_t p = 0; p < net->n_pops; p++) {
    const cl_pop *pop = &net->pops[p];
    if (pop->cfg->model == CL_MODEL_COND_ALPHA && i >= pop->in_begin &&
        i < pop->in_begin + pop->n_local)
      return pop->gid0 + (i - pop->in_begin) * (uint64_t)net->size;
  }
  return UINT64_MAX;
}

void cl_network_source_step(cl_network *net, cl_pop *pop, int64_t step, cl_emit_fn emit,
                            void *ctx) {
  double dt = net->cfg->sim.dt;
  /* A source spike at t belongs to the step with t_n < t <= t_{n+1} (with a tolerance of
   * 1e-6 dt for times given on the grid). */
  double t_end = (double)(step + 1) * dt + 1e-6 * dt;
  const cl_population_config *pc = pop->cfg;
  if (!(pop->next_due <= t_end)) /* (a population silent for good: +inf) */
    return;
  double due = INFINITY;
  if (pc->model == CL_MODEL_POISSON_SOURCE) {
    for (uint64_t j = 0; j < pop->n_local; j++) {
      while (pop->next_spike[j] <= t_end) {
        double t = pop->next_spike[j];
        uint64_t gid = pop->gid0 + j * (uint64_t)net->size;
        if (t < pc->stop)
          emit(ctx, pop, j, t);
        pop->next_spike[j] =
            t >= pc->stop ? INFINITY : t + poisson_interval(net, pop, gid, pop->draws[j]++);
      }
      due = fmin(due, pop->next_spike[j]);
    }
  } else if (pc->model == CL_MODEL_SPIKE_SOURCE) {
    for (uint64_t j = 0; j < pop->n_local; j++) {
      uint64_t node = pop->gid0 + j * (uint64_t)net->size - pc->first_gid;
      uint64_t end = pc->spike_ptr[node + 1];
      while (pop->cursor[j] < end && pc->spike_times[pop->cursor[j]] <= t_end)
        emit(ctx, pop, j, pc->spike_times[pop->cursor[j]++]);
      if (pop->cursor[j] < end)
        due = fmin(due, pc->spike_times[pop->cursor[j]]);
    }
  }
  pop->next_due = due;
}

size_t cl_network_kernel_run(const cl_network *net, size_t p) {
  const cl_pop *a = &net->pops[p];
  if (a->cfg->model != CL_MODEL_COND_ALPHA || a->n_local == 0)
    return 0;
  size_t q = p + 1;
  while (q < net->n_pops) {
    const cl_pop *b = &net->pops[q], *prev = &net->pops[q - 1];
    if (b->cfg->model != CL_MODEL_COND_ALPHA || b->n_local == 0 || a->I0 || b->I0 ||
        !cl_neuron_kernel_same(&a->kernel, &b->kernel) ||
        b->in_begin != prev->in_begin + cl_inputs_of(prev->n_local))
      break;
    q++;
  }
  return q - p;
}

void cl_network_destroy(cl_network *net) {
  for (size_t p = 0; net->pops && p < net->n_pops; p++) {
    cl_pop *pop = &net->pops[p];
    free(pop->next_spike);
    free(pop->draws);
    free(pop->cursor);
    free(pop->I0);
    free(pop->Ih);
    free(pop->I1);
  }
  free(net->state.V_m); /* the block of every state array (cl_neuron_state_alloc) */
  free(net->pops);
  memset(net, 0, sizeof *net);
}
