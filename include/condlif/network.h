/* The local part of the network on one rank: which gids it owns, their state as one array
 * per variable, and the runtime of spike-source populations.
 *
 * Ownership (DESIGN.md §3): rank r of P owns the gids g with g % P == r; its local index is
 * L = g / P. The local neurons of one population form a contiguous range of L, so a
 * population's state is a slice of the rank's arrays. */
#ifndef CONDLIF_NETWORK_H
#define CONDLIF_NETWORK_H

#include <stddef.h>
#include <stdint.h>

#include "condlif/config.h"
#include "condlif/neuron.h"
#include "condlif/rng.h"

typedef struct {
  const cl_population_config *cfg;
  int index;               /* population index in the config */
  uint64_t L_begin;        /* first local index */
  uint64_t in_begin;       /* cond_alpha: first index of its neurons in the rank's state
                            * arrays (the input index of synapse targets); populations start
                            * on 64-byte boundaries there */
  uint64_t n_local;        /* neurons of this population on this rank */
  uint64_t gid0;           /* gid of its first local neuron (valid when n_local > 0) */
  cl_neuron_kernel kernel; /* cond_alpha only */
  cl_neuron_state state;   /* cond_alpha only: its slice [in_begin, in_begin + n_local) of
                            * the rank's state */
  /* poisson_source: time of each local source's next spike (ms) and how many intervals its
   * stream has drawn */
  double *next_spike;
  uint64_t *draws;
  /* spike_source: index of each local source's next spike in cfg->spike_times */
  uint64_t *cursor;
  /* sources: no local source spikes before this time (ms), so that a step before it skips
   * them; -INFINITY (unknown) whenever next_spike or cursor is written from outside */
  double next_due;
  /* external current at t_n, t_n + dt/2, t_n + dt (pA) when a current stimulus targets it */
  double *I0, *Ih, *I1;
  uint64_t n_spikes; /* spikes emitted on this rank so far */
} cl_pop;

typedef struct {
  const cl_config *cfg;
  int rank, size;
  uint64_t n_total;  /* gids in the network */
  uint64_t n_local;  /* gids on this rank */
  uint64_t n_inputs; /* length of the input index space: the cond_alpha neurons on this rank,
                      * each population padded to a multiple of 8 */
  /* The state of every local cond_alpha neuron, indexed by input index (the populations'
   * states are slices of it; padding is held for ever (cl_neuron_state), so that it stays
   * zero and never spikes when a run of populations is stepped with it). Delivery adds arriving
   * spikes to x_ex and x_in here directly. */
  cl_neuron_state state;
  size_t n_pops;
  cl_pop *pops;
} cl_network;

/* Entries a population of n_local neurons takes in the rank's input index space (and state):
 * padded to a multiple of 8, so that each population starts on a 64-byte boundary. */
static inline uint64_t cl_inputs_of(uint64_t n_local) {
  return (n_local + 7) / 8 * 8;
}

static inline int cl_gid_rank(uint64_t gid, int size) {
  return (int)(gid % (uint64_t)size);
}
static inline uint64_t cl_gid_local(uint64_t gid, int size) {
  return gid / (uint64_t)size;
}

/* Local range of gids [first, first + count) on rank of size: first local index and count. */
void cl_local_range(uint64_t first, uint64_t count, int rank, int size, uint64_t *L_begin,
                    uint64_t *n_local);

/* gid of the neuron at input index i of this rank (i must belong to a population). */
uint64_t cl_network_input_gid(const cl_network *net, uint64_t i);

/* Allocates the local state, draws initial values (streams keyed by seed, population, gid:
 * the same for every rank count) and sets up spike sources. Not collective; on failure
 * returns a status (out of memory) and leaves *net empty. */
int cl_network_create(cl_network *net, const cl_config *cfg, int rank, int size);

/* Emits the spikes of spike-source population pop in step (times in (t_n, t_{n+1}]): calls
 * emit(ctx, pop, local index within pop, time ms) in index order. Does nothing for a neuron
 * population. */
typedef void (*cl_emit_fn)(void *ctx, cl_pop *pop, uint64_t j, double t);
void cl_network_source_step(cl_network *net, cl_pop *pop, int64_t step, cl_emit_fn emit, void *ctx);

/* The number of populations, from p on, that one cl_neuron_step can update together, over
 * their slices of the rank's state and the padding between them: a cond_alpha population p
 * with local neurons, and the populations right after it with the same kernel
 * (cl_neuron_kernel_same), local neurons and no stimulus current (I0 NULL, p's too); 1 when
 * none follows, 0 when p is a spike source or has no local neurons. Per step, a call's fixed costs
 * (pass two's vectors, the constants) are then paid once for, say, an excitatory and an inhibitory
 * population of one neuron model. Call it once the stimuli are set up. */
size_t cl_network_kernel_run(const cl_network *net, size_t p);

/* Draws a value of d from stream r (NORMAL is redrawn until inside [lo, hi]). */
double cl_dist_draw(const cl_dist *d, cl_rng *r);

/* Frees what net owns. */
void cl_network_destroy(cl_network *net);

#endif
