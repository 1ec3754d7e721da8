#include "condlif/stimulus.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "condlif/error.h"
#include "condlif/rng.h"

static int is_current(cl_stim_kind k) {
  return k == CL_STIM_DC || k == CL_STIM_SINE || k == CL_STIM_PIECEWISE || k == CL_STIM_TIMESERIES;
}

static double poisson_gap(const cl_config *cfg, const cl_stim *s, uint64_t gid, uint64_t k) {
  cl_rng rng;
  cl_rng_init(&rng, cfg->sim.seed, CL_RNG_POISSON_INPUT + (uint64_t)s->index, gid, k);
  return cl_rng_exponential(&rng) * 1000.0 / s->cfg->rate;
}

static uint64_t stim_gid(const cl_network *net, const cl_stim *s, uint64_t i) {
  uint64_t j = s->all ? i : s->sel[i];
  return s->pop->gid0 + j * (uint64_t)net->size;
}

/* Starts Poisson input s's trains at time `from` (ms), each from draw `first` of its stream. */
static void poisson_start(cl_stim *s, const cl_network *net, double from, uint64_t first) {
  for (uint64_t k = 0; k < s->n; k++) {
    s->draws[k] = first + 1;
    s->next[k] =
        s->cfg->rate > 0 ? from + poisson_gap(net->cfg, s, stim_gid(net, s, k), first) : INFINITY;
  }
}

static int setup(cl_stim *s, cl_network *net) {
  const cl_stimulus_config *sc = s->cfg;
  cl_pop *pop = s->pop;
  s->all = sc->sel.all;
  if (s->all) {
    s->n = pop->n_local;
  } else {
    s->sel = cl_malloc(sc->sel.n * sizeof *s->sel);
    CL_ALLOC_CHECK(s->sel);
    s->n = 0;
    for (size_t i = 0; i < sc->sel.n; i++) {
      uint64_t gid = pop->cfg->first_gid + sc->sel.ids[i];
      if (cl_gid_rank(gid, net->size) == net->rank)
        s->sel[s->n++] = (gid - pop->gid0) / (uint64_t)net->size;
    }
  }
  if (is_current(sc->kind) && !pop->I0) {
    pop->I0 = cl_calloc(pop->n_local, sizeof(double));
    pop->Ih = cl_calloc(pop->n_local, sizeof(double));
    pop->I1 = cl_calloc(pop->n_local, sizeof(double));
    CL_ALLOC_CHECK(pop->I0 && pop->Ih && pop->I1);
  }
  if (sc->kind == CL_STIM_POISSON) {
    s->next = cl_malloc(s->n * sizeof *s->next);
    s->draws = cl_malloc(s->n * sizeof *s->draws);
    CL_ALLOC_CHECK(s->next && s->draws);
    poisson_start(s, net, sc->start, 0);
  }
  return CL_OK;
}

int cl_stimuli_create(cl_stimuli *st, const cl_config *cfg, cl_network *net) {
  st->n = cfg->n_stimuli;
  st->stims = cl_calloc(st->n, sizeof *st->stims);
  CL_ALLOC_CHECK(st->stims);
  for (size_t i = 0; i < st->n; i++) {
    cl_stim *s = &st->stims[i];
    s->cfg = &cfg->stimuli[i];
    s->index = (int)i;
    s->pop = &net->pops[s->cfg->target];
    int status = setup(s, net);
    if (status != CL_OK) {
      cl_stimuli_destroy(st);
      return status;
    }
  }
  return CL_OK;
}

/* Index of the piece holding t: the last i with times[i] <= t (from the left: < t). */
static long piece(const double *times, size_t n, double t, int side) {
  size_t lo = 0, hi = n; /* first index with times[i] > t (or >= t from the left) */
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (side < 0 ? times[mid] < t : times[mid] <= t)
      lo = mid + 1;
    else
      hi = mid;
  }
  return (long)lo - 1;
}

double cl_stimulus_current(const cl_stimulus_config *s, double t, int side) {
  int active = side < 0 ? (t > s->start && t <= s->stop) : (t >= s->start && t < s->stop);
  switch (s->kind) {
  case CL_STIM_DC:
    return active ? s->amplitude : 0.0;
  case CL_STIM_SINE:
    return active
               ? s->offset + s->amplitude *
                                 sin(2.0 * M_PI * s->frequency * 1e-3 * (t - s->start) + s->phase)
               : 0.0;
  case CL_STIM_PIECEWISE: {
    long i = piece(s->times, s->n_points, t, side);
    return i >= 0 ? s->values[i] : 0.0;
  }
  case CL_STIM_TIMESERIES: {
    if (!active || s->n_points == 0)
      return 0.0;
    double x = (t - s->start) / s->series_dt;
    double k = side < 0 ? ceil(x - 1e-9) - 1 : floor(x + 1e-9);
    if (k < 0)
      k = 0;
    if (k >= (double)s->n_points)
      k = (double)s->n_points - 1;
    return s->values[(size_t)k];
  }
  case CL_STIM_POISSON:
  case CL_STIM_SPIKES:
    break;
  }
  return 0.0;
}

void cl_stimuli_currents(cl_stimuli *st, cl_network *net, int64_t step) {
  double dt = net->cfg->sim.dt, t0 = (double)step * dt, t1 = (double)(step + 1) * dt;
  for (size_t p = 0; p < net->n_pops; p++) {
    cl_pop *pop = &net->pops[p];
    if (pop->I0) {
      memset(pop->I0, 0, pop->n_local * sizeof(double));
      memset(pop->Ih, 0, pop->n_local * sizeof(double));
      memset(pop->I1, 0, pop->n_local * sizeof(double));
    }
  }
  for (size_t i = 0; i < st->n; i++) {
    cl_stim *s = &st->stims[i];
    if (!is_current(s->cfg->kind))
      continue;
    double a = cl_stimulus_current(s->cfg, t0, +1);
    double h = cl_stimulus_current(s->cfg, 0.5 * (t0 + t1), +1);
    double b = cl_stimulus_current(s->cfg, t1, -1);
    if (a == 0.0 && h == 0.0 && b == 0.0)
      continue;
    cl_pop *pop = s->pop;
    for (uint64_t k = 0; k < s->n; k++) {
      uint64_t j = s->all ? k : s->sel[k];
      pop->I0[j] += a;
      pop->Ih[j] += h;
      pop->I1[j] += b;
    }
  }
}

/* The latest event time that cl_stimuli_inject takes at step (a millionth of a step of slack
 * for times given on the grid). */
static double inject_until(double dt, int64_t step) {
  return (double)step * dt + 1e-6 * dt;
}

void cl_stimuli_inject(cl_stimuli *st, cl_network *net, int64_t step) {
  const double tn = inject_until(net->cfg->sim.dt, step);
  for (size_t i = 0; i < st->n; i++) {
    cl_stim *s = &st->stims[i];
    const cl_stimulus_config *sc = s->cfg;
    if (sc->kind != CL_STIM_POISSON && sc->kind != CL_STIM_SPIKES)
      continue;
    const int r = sc->receptor == CL_RECEPTOR_IN;
    double *x = (r ? net->state.x_in : net->state.x_ex) + s->pop->in_begin;
    /* x is stored scaled (cl_scale): the weight times the factor, as in delivery */
    const double w = cl_scale_w(&s->pop->kernel.scale[r], step) * sc->weight;
    if (sc->kind == CL_STIM_POISSON) {
      for (uint64_t k = 0; k < s->n; k++) {
        uint64_t j = s->all ? k : s->sel[k];
        while (s->next[k] <= tn) {
          double t = s->next[k];
          if (t < sc->stop) {
            x[j] += w;
            s->next[k] = t + poisson_gap(net->cfg, s, stim_gid(net, s, k), s->draws[k]++);
          } else {
            s->next[k] = INFINITY;
          }
        }
      }
    } else {
      while (s->cursor < sc->n_points && sc->times[s->cursor] <= tn) {
        for (uint64_t k = 0; k < s->n; k++)
          x[s->all ? k : s->sel[k]] += w;
        s->cursor++;
      }
    }
  }
}

void cl_stimuli_start_at(cl_stimuli *st, cl_network *net, int64_t step) {
  const double dt = net->cfg->sim.dt, t0 = (double)step * dt;
  /* cl_stimuli_inject at step n takes the events after those of step n - 1 */
  const double before = inject_until(dt, step - 1);
  for (size_t i = 0; i < st->n; i++) {
    cl_stim *s = &st->stims[i];
    const cl_stimulus_config *sc = s->cfg;
    if (sc->resumes) /* its state came with the network's */
      continue;
    if (sc->kind == CL_STIM_POISSON) {
      /* a part of the stream of its own, so that it does not repeat the intervals of a run
       * started at 0 (which the first run of a changed input drew): counters from step 2^32 */
      poisson_start(s, net, sc->start > t0 ? sc->start : t0, (uint64_t)step << 32);
    } else if (sc->kind == CL_STIM_SPIKES) {
      s->cursor = 0;
      while (s->cursor < sc->n_points && sc->times[s->cursor] <= before)
        s->cursor++;
    }
  }
}

void cl_stimuli_destroy(cl_stimuli *st) {
  for (size_t i = 0; st->stims && i < st->n; i++) {
    free(st->stims[i].sel);
    free(st->stims[i].next);
    free(st->stims[i].draws);
  }
  free(st->stims);
  st->stims = NULL;
  st->n = 0;
}
