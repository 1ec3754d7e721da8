/* Spike-writing throughput of the output writer.
 *
 *   mpiexec -n P bench_output DIR [spikes_per_flush] [flushes] [neurons]
 *
 * A network of `neurons` neurons (default 40000, dealt round-robin over ranks) emits
 * `spikes_per_flush` spikes (default 40000, i.e. 100 ms of a network firing 400k spikes per
 * simulated second) between two flushes, in unsorted order within each interval; `flushes`
 * intervals (default 100). Reports the time spent in cl_output_add_spikes and cl_output_flush
 * (the slowest rank's), and spikes written per second of that time. DIR must not exist. */
#include <stdio.h>
#include <stdlib.h>

#include "condlif/error.h"
#include "condlif/output.h"

static uint64_t lcg(uint64_t *s) {
  *s = *s * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
  return *s >> 11;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (argc < 2) {
    if (rank == 0)
      fprintf(stderr, "usage: bench_output DIR [spikes_per_flush] [flushes] [neurons]\n");
    MPI_Finalize();
    return 2;
  }
  uint64_t per_flush = argc > 2 ? strtoull(argv[2], NULL, 10) : 40000;
  int flushes = argc > 3 ? atoi(argv[3]) : 100;
  uint64_t neurons = argc > 4 ? strtoull(argv[4], NULL, 10) : 40000;
  const double interval = 100.0; /* ms of simulated time between flushes */

  cl_output_spike_pop pop = {"exc", neurons, 0};
  cl_output_desc d = {argv[1], 0, 1, &pop, 0, NULL, per_flush * 16, 0, NULL, NULL};
  cl_output *out = NULL;
  int st = cl_output_open(&out, MPI_COMM_WORLD, &d);
  if (st != CL_OK) {
    cl_error_report(MPI_COMM_WORLD, st);
    MPI_Finalize();
    return 1;
  }
  uint64_t n_local_neurons = neurons / (uint64_t)size + ((uint64_t)rank < neurons % size);
  uint64_t mine = per_flush / (uint64_t)size + ((uint64_t)rank < per_flush % size);
  uint64_t *ids = malloc(sizeof *ids * (mine ? mine : 1));
  double *times = malloc(sizeof *times * (mine ? mine : 1));
  uint64_t seed = UINT64_C(0x9E3779B97F4A7C15) ^ (uint64_t)rank;
  double t_add = 0, t_flush = 0;
  for (int f = 0; f < flushes && st == CL_OK; f++) {
    /* Spikes of one interval, 64 at a time (like a slice of the time loop), not sorted. */
    for (uint64_t i = 0; i < mine; i++) {
      ids[i] = (lcg(&seed) % n_local_neurons) * (uint64_t)size + (uint64_t)rank;
      if (ids[i] >= neurons)
        ids[i] = (uint64_t)rank;
      times[i] = interval * (f + (double)(lcg(&seed) % 1000000) * 1e-6);
    }
    double t0 = MPI_Wtime();
    for (uint64_t i = 0; i < mine && st == CL_OK; i += 64)
      st = cl_output_add_spikes(out, 0, mine - i < 64 ? mine - i : 64, ids + i, times + i);
    double t1 = MPI_Wtime();
    if (st == CL_OK)
      st = cl_output_flush(out);
    t_add += t1 - t0;
    t_flush += MPI_Wtime() - t1;
  }
  double t0 = MPI_Wtime();
  int cst = cl_output_close(&out);
  double t_close = MPI_Wtime() - t0;
  if (st == CL_OK)
    st = cst;
  double loc[3] = {t_add, t_flush, t_close}, max[3];
  MPI_Reduce(loc, max, 3, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
  if (rank == 0 && st == CL_OK) {
    double total = (double)per_flush * flushes;
    printf("bench_output: %d rank(s), %.0f spikes in %d flushes of %llu (%llu neurons)\n", size,
           total, flushes, (unsigned long long)per_flush, (unsigned long long)neurons);
    printf("  add %.3f s, flush %.3f s (%.2f ms per flush), close %.3f s\n", max[0], max[1],
           1e3 * max[1] / flushes, max[2]);
    printf("  throughput %.3g spikes/s (add + flush)\n", total / (max[0] + max[1]));
  }
  if (st != CL_OK)
    cl_error_report(MPI_COMM_WORLD, st);
  free(ids);
  free(times);
  MPI_Finalize();
  return st != CL_OK;
}
