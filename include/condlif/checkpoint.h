/* Checkpoints: the state of a run after some step, written to <output>/checkpoint.h5 so that
 * `condlif --continue DIR` goes on from there, on any number of ranks, with the spikes and
 * samples the uninterrupted run would have given (bit for bit).
 *
 * Everything is laid out by node id, never by rank: each neuron's state variables, each
 * Poisson source's next event and stream position, the spikes in transit (emitted, with
 * synapses still to arrive) as (gid, step), the spike counts, and how much each output file
 * holds. Layout: doc/output.md. The file is written under a temporary name and renamed into
 * place, so a failed write leaves the checkpoint before it. */
#ifndef CONDLIF_CHECKPOINT_H
#define CONDLIF_CHECKPOINT_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#include "condlif/config.h"
#include "condlif/network.h"
#include "condlif/stimulus.h"

#define CL_CHECKPOINT_FILE "checkpoint.h5"

/* What a checkpoint counts besides the state (the same on every rank). */
typedef struct {
  int64_t step;          /* steps simulated: the continuation starts with this one */
  int64_t first_step;    /* the step the run's output files begin at: 0, or where the run
                          * started from another run's state (simulation.initial_state) */
  uint64_t *spike_count; /* [cfg->n_populations] spikes emitted so far, over all ranks */
  size_t n_spike_files;  /* populations whose spikes are recorded, in config order */
  uint64_t *spikes;      /* [n_spike_files] spikes in spikes.h5 */
  double *spike_t_max;   /* [n_spike_files] the latest of them (ms) */
  size_t n_reports;      /* report files, in the order the simulator opens them */
  uint64_t *rows;        /* [n_reports] samples in each */
} cl_checkpoint_counts;

/* Writes dir/checkpoint.h5: cfg's texts (config_text as given), the counts, the state of every
 * local neuron, source and stimulus, and the spikes in transit that this rank knows of (n
 * gids and emission steps, in any order; a spike may be known to several ranks). Collective;
 * every rank returns the same status. */
int cl_checkpoint_write(const char *dir, const char *config_text, const cl_config *cfg,
                        const cl_network *net, const cl_stimuli *st, const uint64_t *gid,
                        const int64_t *step, size_t n, const cl_checkpoint_counts *c,
                        MPI_Comm comm);

/* The checkpoint file that `where` names: where itself when it ends in ".h5", else
 * where/checkpoint.h5 (a run directory). */
void cl_checkpoint_path(const char *where, char *path, size_t n);

/* Rank 0 reads the configuration of the checkpoint file at path (as given, and resolved: what
 * a continuation parses) and its step (step may be NULL), and sends them to every rank. The
 * strings are the caller's (free). Collective; a missing or foreign file is a user error
 * naming it, its message beginning with `what`. */
int cl_checkpoint_read_config(const char *path, const char *what, char **given, char **resolved,
                              int64_t *step, MPI_Comm comm);

/* Reads the state of the local neurons, sources and stimuli of net and st (built from the
 * checkpoint's configuration on any number of ranks), the counts (arrays allocated here: free
 * them with cl_checkpoint_counts_free) and every spike in transit, sorted by step then gid
 * (*gid and *step allocated here). With fork (a run starting from another run's state, whose
 * network is the checkpoint's), only the populations' state, the step, the spikes in transit
 * and the state of the stimuli that resume (cl_stimulus_config.resumes): not the spike counts
 * or output counts. Collective; every rank returns the same status. */
int cl_checkpoint_read(const char *path, const cl_config *cfg, cl_network *net, cl_stimuli *st,
                       cl_checkpoint_counts *c, uint64_t **gid, int64_t **step, size_t *n, int fork,
                       MPI_Comm comm);

void cl_checkpoint_counts_free(cl_checkpoint_counts *c);

#endif
