/* Cost of the spike exchange itself (not a test): cl_exchange_start and cl_exchange_finish on
 * synthetic slices.
 *
 *   mpiexec -n P bench_exchange [spikes_per_rank_per_slice] [slices] [neurons]
 *
 * Every rank owns neurons/P sources (round-robin, as the simulator does), each with targets on
 * every rank, and pushes spikes_per_rank_per_slice spikes of random local sources per slice
 * (default 1000: COBA-alpha at N = 200 000 on 2 ranks, 1 ms slices), then exchanges. Reported
 * per exchange (the slowest rank's mean): the exchange as the time loop sees it, and the same
 * after an MPI_Barrier, so that no rank waits for a slower one: the difference between a run's
 * exchange timer and the second figure is waiting (load imbalance, or a descheduled rank).
 * Then the same with work around the exchange, as in a run: each rank spins for a slice of
 * 10 steps of 100 us plus a jitter drawn per rank and slice (uniform in 0-100 us, standing for
 * the noise that makes one rank late), and exchanges either at once (start and finish, as a
 * blocking exchange would) or overlapped with the next slice's first step (start, one step,
 * finish, as the time loop does): the overlapped exchange waits only when a rank is more than
 * a step late, and only when the spikes travel without the late rank's help (eager messages).
 * Defaults: 1000 spikes, 2000 slices, 200 000 neurons. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "condlif/error.h"
#include "condlif/exchange.h"
#include "condlif/synapses.h"

static uint64_t lcg(uint64_t *s) {
  *s = *s * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
  return *s >> 11;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

/* Busy for `seconds`; with ex, lets MPI progress the exchange in flight every 10 us, as the
 * time loop does (cl_neuron_input.poll). */
static void spin(double seconds, cl_exchange *ex) {
  double now = MPI_Wtime(), until = now + seconds, next_poll = now + 10e-6;
  while ((now = MPI_Wtime()) < until)
    if (ex && now >= next_poll) {
      cl_exchange_poll(ex);
      next_poll = now + 10e-6;
    }
}

static void push_slice(cl_exchange *ex, uint64_t *gids, int spikes, uint64_t n_local, int rank,
                       int P, uint64_t *seed) {
  /* a slice of 10 steps; spikes in (step, gid) order, as the simulator pushes them */
  for (int i = 0; i < spikes; i++)
    gids[i] = (lcg(seed) % 10) << 40 | ((lcg(seed) % n_local) * (uint64_t)P + (uint64_t)rank);
  qsort(gids, (size_t)spikes, sizeof *gids, cmp_u64);
  for (int i = 0; i < spikes; i++)
    cl_exchange_push(ex, (int64_t)(gids[i] >> 40), gids[i] & ((UINT64_C(1) << 40) - 1));
}

enum {
  FREE,           /* exchanges back to back */
  SYNCED,         /* after a barrier each: no rank waits for another */
  WORK_AT_ONCE,   /* among work with jitter, started and finished at once */
  WORK_OVERLAPPED /* among work with jitter, finished after one more step */
};

/* Mean seconds per exchange of `slices` exchanges: the slowest rank's (FREE, SYNCED) or the
 * mean over ranks (WORK_*: 10 steps of 100 us per slice and a jitter of 0-100 us). */
static double run(cl_exchange *ex, const cl_synapses *syn, int spikes, int slices, uint64_t n_local,
                  int mode, uint64_t *seed) {
  const double step = 100e-6, jitter = 100e-6;
  const int work = mode == WORK_AT_ONCE || mode == WORK_OVERLAPPED;
  int rank, P;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &P);
  uint64_t *gids = malloc((size_t)spikes * sizeof *gids);
  if (!gids)
    cl_error_abort("bench_exchange: out of memory");
  const uint64_t *got;
  size_t n;
  double total = 0;
  if (work)
    MPI_Barrier(MPI_COMM_WORLD);
  for (int s = 0; s < slices; s++) {
    if (work)
      spin((mode == WORK_OVERLAPPED ? 9 : 10) * step + jitter * (double)(lcg(seed) % 1024) / 1024.0,
           NULL);
    push_slice(ex, gids, spikes, n_local, rank, P, seed);
    if (mode == SYNCED)
      MPI_Barrier(MPI_COMM_WORLD);
    double t = MPI_Wtime();
    cl_exchange_start(ex, syn, 0);
    total += MPI_Wtime() - t;
    if (mode == WORK_OVERLAPPED)
      spin(step, ex);
    t = MPI_Wtime();
    cl_exchange_finish(ex, &got, &n);
    total += MPI_Wtime() - t;
  }
  free(gids);
  double mean = total / slices, r;
  MPI_Allreduce(&mean, &r, 1, MPI_DOUBLE, work ? MPI_SUM : MPI_MAX, MPI_COMM_WORLD);
  return work ? r / P : r;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, P;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &P);
  int spikes = argc > 1 ? atoi(argv[1]) : 1000;
  int slices = argc > 2 ? atoi(argv[2]) : 2000;
  uint64_t neurons = argc > 3 ? strtoull(argv[3], NULL, 10) : 200000;
  if (spikes < 1 || slices < 1 || neurons < (uint64_t)P) {
    if (rank == 0)
      fprintf(stderr, "usage: bench_exchange [spikes_per_rank_per_slice] [slices] [neurons]\n");
    MPI_Finalize();
    return 2;
  }
  uint64_t n_local = neurons / (uint64_t)P;
  /* every local source has targets on every rank */
  cl_synapses syn;
  memset(&syn, 0, sizeof syn);
  syn.words = (P + 63) / 64;
  syn.dest = calloc(n_local * (uint64_t)syn.words + 1, sizeof *syn.dest);
  cl_exchange ex;
  if (!syn.dest || cl_exchange_init(&ex, MPI_COMM_WORLD) != CL_OK)
    cl_error_abort("bench_exchange: out of memory");
  for (uint64_t L = 0; L < n_local; L++)
    for (int q = 0; q < P; q++)
      syn.dest[L * (uint64_t)syn.words + (uint64_t)q / 64] |= UINT64_C(1) << (q % 64);
  syn.dest_all = 1; /* as construction finds it */
  uint64_t seed = 12345 + (uint64_t)rank;
  run(&ex, &syn, spikes, slices / 10 + 1, n_local, SYNCED, &seed); /* warm-up */
  double free_run = run(&ex, &syn, spikes, slices, n_local, FREE, &seed);
  double synced = run(&ex, &syn, spikes, slices, n_local, SYNCED, &seed);
  int work_slices = slices / 4 + 1;
  double at_once = run(&ex, &syn, spikes, work_slices, n_local, WORK_AT_ONCE, &seed);
  double overlapped = run(&ex, &syn, spikes, work_slices, n_local, WORK_OVERLAPPED, &seed);
  if (rank == 0) {
    printf("bench_exchange: %d rank(s), %d spikes per rank and slice, %d slices, %llu neurons\n", P,
           spikes, slices, (unsigned long long)neurons);
    printf("  per exchange: %.1f us as in the time loop, %.1f us after a barrier (no waiting)\n",
           1e6 * free_run, 1e6 * synced);
    printf("  per simulated second at 1 ms slices: %.4f s, %.4f s\n", 1e3 * free_run, 1e3 * synced);
    printf("  among work with jitter (%d slices; mean over ranks): %.1f us at once, %.1f us "
           "overlapped with a step\n",
           work_slices, 1e6 * at_once, 1e6 * overlapped);
  }
  free(syn.dest);
  cl_exchange_destroy(&ex);
  MPI_Finalize();
  return 0;
}
