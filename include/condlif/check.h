/* The --check report: what a configuration will build and cost, without simulating.
 *
 * Prints the populations and their resolved parameters (defaults marked), derived membrane
 * time constants, stimuli, the expected synapse counts, delays and the exchange schedule, an
 * estimate of the memory per rank, and for every projection the peak postsynaptic potential
 * at rest and the number of coincident inputs that reach threshold, compared with the
 * expected in-degree. */
#ifndef CONDLIF_CHECK_H
#define CONDLIF_CHECK_H

#include <stdio.h>

#include "condlif/config.h"

/* Memory estimate of one rank (bytes, averages over ranks; round-robin placement keeps the
 * ranks within one neuron per population of each other). */
typedef struct {
  int delay_per_source; /* every source's synapses share one delay (cl_config_single_delay_rows) */
  int weight_table;     /* entries of the weight table (cl_synapses_weight_table), or 0 */
  int synapse_bytes;    /* 4-10: target word, weight unless in the table, delay unless per source */
  double synapses;      /* synapse_bytes per synapse */
  double csr_offsets;   /* 8 bytes per gid (10 with one delay per source), on every rank */
  double state; /* state_doubles (and a byte with 7) per cond_alpha neuron (largest rank, padded) */
  int state_doubles;     /* 6, or 7 and tre_min where the rank's states are cache-resident */
  double report_buffers; /* float32 samples buffered between report flushes */
  double edges;          /* writing edges.h5 before the run: rows of a round and unit counts */
  double config;         /* spike_source times and time series, held by every rank */
  double total;
} cl_check_memory;

/* Fills *m for a run of cfg on nranks ranks (nranks >= 1). Not collective. */
void cl_check_memory_estimate(const cl_config *cfg, int nranks, cl_check_memory *m);

/* Prints the report for nranks ranks to f; returns the number of warnings it contains (lines
 * starting "warning:"). Not collective: call it on rank 0 only. */
int cl_check_print(FILE *f, const cl_config *cfg, int nranks);

#endif
