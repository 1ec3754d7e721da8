/* The spike exchange (src/exchange.c), run at 1 rank as a unit test and at 2-4 ranks under
 * mpiexec (tests/cmake/engine.cmake). Over several hundred slices with spike counts from none
 * to bursts far beyond the block capacity, every rank must receive exactly the spikes meant for
 * it (those of sources with a target on it), in (step, gid) order, while the next slice's
 * spikes are pushed between start and finish as the time loop does; every rank must get the
 * OR of all ranks' flags; and the block capacity must stay the same on every rank, grow after an
 * overflow and shrink after quiet windows. Destination sets cover every rank (each rank is sent the
 * flight buffer itself), known from construction (cl_synapses.dest_all) or found by counting, or a
 * random subset, some empty. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "condlif/error.h"
#include "condlif/exchange.h"
#include "condlif/network.h"

#define N_LOCAL 1000 /* sources per rank */
#define STEPS 10     /* steps per slice */
#define SLICES 400

static uint64_t mix(uint64_t x) {
  x ^= x >> 33;
  x *= UINT64_C(0xff51afd7ed558ccd);
  x ^= x >> 33;
  x *= UINT64_C(0xc4ceb9fe1a85ec53);
  return x ^ (x >> 33);
}

/* The expected number of spikes of a rank in slice s: none, a few, about one cap, and bursts;
 * quiet from slice 40 on, so that the capacity shrinks. */
static double mean_count(int s, int rank) {
  if (s == 5 || s == 17)
    return 3000.0 + 500.0 * rank;
  if (s >= 40)
    return (s % 3) * 2.0;
  static const double pattern[] = {0, 1, 40, 300, 700, 20, 0, 1200};
  return pattern[(s + rank) % 8];
}

/* Whether local source L of rank q spikes in step `step` of slice s. */
static int spikes(int s, int q, int step, uint64_t L) {
  const double p = mean_count(s, q) / (STEPS * N_LOCAL);
  const uint64_t h = mix((uint64_t)s << 40 ^ (uint64_t)q << 32 ^ (uint64_t)step << 20 ^ L);
  return (double)(h >> 11) * 0x1.0p-53 < p;
}

/* Whether the source with gid has a target on rank r of P (modes 0 and 2: every rank; on one
 * rank the exchange hands back every local spike). */
static int reaches(int mode, uint64_t gid, int r, int P) {
  return mode != 1 || P == 1 || (mix(gid * 7919 + (uint64_t)r) & 3) == 0;
}

static void push_slice(cl_exchange *ex, int s, int rank, int P) {
  for (int step = 0; step < STEPS; step++)
    for (uint64_t L = 0; L < N_LOCAL; L++)
      if (spikes(s, rank, step, L))
        cl_exchange_push(ex, step, L * (uint64_t)P + (uint64_t)rank);
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

/* The spikes rank `rank` must receive in slice s, sorted. */
static size_t expected(int mode, int s, int rank, int P, uint64_t **out, size_t *cap) {
  size_t n = 0;
  for (int q = 0; q < P; q++)
    for (int step = 0; step < STEPS; step++)
      for (uint64_t L = 0; L < N_LOCAL; L++) {
        const uint64_t gid = L * (uint64_t)P + (uint64_t)q;
        if (!spikes(s, q, step, L) || !reaches(mode, gid, rank, P))
          continue;
        if (n == *cap) {
          *cap = *cap ? 2 * *cap : 4096;
          *out = realloc(*out, *cap * sizeof **out);
        }
        (*out)[n++] = (uint64_t)step << CL_SPIKE_STEP_SHIFT | gid;
      }
  if (n > 1)
    qsort(*out, n, sizeof **out, cmp_u64);
  return n;
}

static void run_mode(int mode, int rank, int P) {
  cl_synapses syn;
  memset(&syn, 0, sizeof syn);
  syn.words = (P + 63) / 64;
  syn.dest = calloc((size_t)N_LOCAL * (size_t)syn.words, sizeof *syn.dest);
  for (uint64_t L = 0; L < N_LOCAL; L++)
    for (int r = 0; r < P; r++)
      if (reaches(mode, L * (uint64_t)P + (uint64_t)rank, r, P))
        syn.dest[L * (uint64_t)syn.words + (uint64_t)r / 64] |= UINT64_C(1) << (r % 64);
  syn.dest_all = mode == 0; /* mode 2: the same sets, counted spike by spike */
  cl_exchange ex;
  if (!syn.dest || cl_exchange_init(&ex, MPI_COMM_WORLD) != CL_OK) {
    fprintf(stderr, "test_exchange: out of memory\n");
    exit(1);
  }
  cl_exchange_set_cap(&ex, 50);
  uint64_t *want = NULL;
  size_t want_cap = 0, most_cap = 0;
  int bad_slices = 0, cap_disagreed = 0;
  push_slice(&ex, 0, rank, P);
  for (int s = 0; s < SLICES; s++) {
    /* every rank's flags, ORed: one bit per rank on some slices, the top bit from one rank on
     * others, and a bit beyond CL_EXCHANGE_FLAG_BITS that must not travel (nor touch the count) */
    const unsigned flags = ((s + rank) % 9 == 0 ? 1u << (rank % 7) : 0u) |
                           (s % 7 == 3 && rank == s % P ? 1u << 7 : 0u) |
                           (s % 5 == 1 ? 1u << CL_EXCHANGE_FLAG_BITS : 0u);
    unsigned want_flags = s % 7 == 3 ? 1u << 7 : 0u;
    for (int q = 0; q < P; q++)
      want_flags |= (s + q) % 9 == 0 ? 1u << (q % 7) : 0u;
    cl_exchange_start(&ex, &syn, flags);
    if (s + 1 < SLICES) /* the next slice's first spikes, while this one is in flight */
      push_slice(&ex, s + 1, rank, P);
    const uint64_t *got;
    size_t n;
    const unsigned any = cl_exchange_finish(&ex, &got, &n);
    CHECK_MSG(any == want_flags, "mode %d slice %d: flags %#x received, %#x expected", mode, s, any,
              want_flags);
    const size_t m = expected(mode, s, rank, P, &want, &want_cap);
    if ((n != m || (m && memcmp(got, want, m * sizeof *got))) && bad_slices++ < 3)
      CHECK_MSG(0, "mode %d slice %d rank %d: %zu spikes received, %zu expected%s", mode, s, rank,
                n, m, n == m ? " (other spikes or order)" : "");
    unsigned long long cap = ex.cap, lo, hi;
    MPI_Allreduce(&cap, &lo, 1, MPI_UNSIGNED_LONG_LONG, MPI_MIN, MPI_COMM_WORLD);
    MPI_Allreduce(&cap, &hi, 1, MPI_UNSIGNED_LONG_LONG, MPI_MAX, MPI_COMM_WORLD);
    cap_disagreed += lo != hi;
    if (ex.cap > most_cap)
      most_cap = ex.cap;
  }
  CHECK_MSG(bad_slices == 0, "mode %d: %d slices with wrong spikes", mode, bad_slices);
  CHECK_MSG(cap_disagreed == 0, "mode %d: block capacity differed between ranks in %d slices", mode,
            cap_disagreed);
  if (P > 1) {
    /* grown past the bursts (some 3000 spikes in every block of mode 0), shrunk once quiet */
    CHECK_MSG(ex.overflows >= 2, "mode %d: %llu overflows", mode, (unsigned long long)ex.overflows);
    CHECK_MSG(most_cap >= (mode != 1 ? 3000 : 600), "mode %d: largest capacity %zu", mode,
              most_cap);
    CHECK_MSG(ex.cap <= 64, "mode %d: capacity %zu after 360 quiet slices", mode, ex.cap);
  }
  unsigned long long moved[2] = {ex.sent, ex.received}, sums[2];
  MPI_Allreduce(moved, sums, 2, MPI_UNSIGNED_LONG_LONG, MPI_SUM, MPI_COMM_WORLD);
  CHECK_MSG(sums[0] == sums[1] && sums[0] > 0, "mode %d: %llu spike messages sent, %llu received",
            mode, sums[0], sums[1]);
  free(want);
  free(syn.dest);
  cl_exchange_destroy(&ex);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, P;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &P);
  for (int mode = 0; mode < 3; mode++)
    run_mode(mode, rank, P);
  int all;
  MPI_Allreduce(&failures, &all, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  if (rank == 0)
    printf("test_exchange: %d rank(s), %d slices in three modes: %s\n", P, SLICES,
           all ? "FAILED" : "ok");
  MPI_Finalize();
  return all != 0;
}
