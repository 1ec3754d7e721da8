/* The synapses of the projections that record them, written to edges.h5 (SONATA edges: see
 * output.h and doc/output.md).
 *
 * A projection's rows are ordered by unit, then in the order each unit draws its synapses:
 * by target node for the per-target rules (each target's sources as its rank stores them),
 * by source node for fixed_outdegree. Every rank draws the units it owns (the unit's gid
 * % P) again from their streams (cl_edge_gen), so the datasets hold the same rows on any
 * rank count; the rows go to the rank that writes their block through one MPI_Alltoallv per
 * round (each rank then writes one contiguous block of every dataset, independently), and a
 * round holds at most CL_EDGES_ROUND rows per rank, so memory stays bounded whatever the
 * network's size. COBA-alpha N = 200 000, all 16 M synapses (834 MB): 0.98 s on 1 rank, 1.08 s
 * on 2 (2.09 s with collective writes); peak RSS 154 MB against 116 MB without. */
#ifndef CONDLIF_EDGES_H
#define CONDLIF_EDGES_H

#include <mpi.h>

#include "condlif/config.h"
#include "condlif/output.h"

/* Rows per rank and round (40 bytes each, held about three times over). */
#define CL_EDGES_ROUND ((uint64_t)1 << 18)

/* Rows per rank and round from now on (0: CL_EDGES_ROUND again); the file is the same at any
 * size. For tests (small rounds, units across rounds). Not thread-safe. */
void cl_edges_set_round(uint64_t rows);

/* Fills desc[k] for the k-th projection with record_edges (in config order), given each
 * projection's synapses on this rank; returns how many there are in *n. Collective (sums the
 * counts over ranks). desc must hold cfg->n_projections entries. */
int cl_edges_describe(const cl_config *cfg, const uint64_t *local_per_projection, MPI_Comm comm,
                      cl_output_edges *desc, size_t *n);

/* Writes the n edge populations that cl_edges_describe described in desc and closes edges.h5
 * (checking that the rows drawn again are as many as the synapses built). Collective;
 * every rank returns the same status. */
int cl_edges_write(cl_output *out, const cl_config *cfg, const cl_output_edges *desc, size_t n,
                   MPI_Comm comm);

#endif
