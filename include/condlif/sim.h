/* A simulation run: owns start-up in order (network, synapses, stimuli,
 * exchange, output) and shut-down in reverse, and the time loop:
 *   for each slice of D_min steps: for each step: deliver the synapses arriving now, inject
 *   stimuli, sample, update populations; then exchange spikes and queue them for delivery,
 *   flush output when due. */
#ifndef CONDLIF_SIM_H
#define CONDLIF_SIM_H

#include <mpi.h>
#include <stdio.h>

#include "condlif/config.h"

typedef struct {
  int force;    /* an existing run directory may be replaced */
  int quiet;    /* no summary */
  int progress; /* progress line on rank 0 (stderr) */
  /* A continued run (--continue): cfg is the configuration of the checkpoint in
   * cfg->sim.output, resume is that directory, and config_text the configuration as the run
   * was first given it (for the metadata and the next checkpoint). NULL for a new run. */
  const char *resume;
  const char *config_text;
} cl_sim_options;

/* Runs cfg over comm and prints the end-of-run summary on rank 0 (to `out`, unless quiet).
 * Collective. Returns a status that is the same on every rank; a failure inside the time
 * loop aborts the job (MPI_Abort) after printing the rank and the cause. */
int cl_sim_run(const cl_config *cfg, const cl_sim_options *opt, MPI_Comm comm, FILE *out);

#endif
