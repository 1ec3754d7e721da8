/* Counter-based random streams (Random123 Philox4x64-10), keyed by what is drawn.
 *
 * A stream is named by (seed, domain, a, b): e.g. (seed, CL_RNG_CONNECT + projection, target
 * gid, 0) or (seed, CL_RNG_POISSON_INPUT + stimulus, gid, step). The same name gives the same
 * numbers on every rank and for every rank count; streams with different names are
 * independent. Never key a stream by the rank. */
#ifndef CONDLIF_RNG_H
#define CONDLIF_RNG_H

#include <stdint.h>

/* Domains (high bits of the key's second word); add the projection/stimulus/population
 * index. */
#define CL_RNG_CONNECT (UINT64_C(1) << 40)
#define CL_RNG_WEIGHT (UINT64_C(2) << 40)
#define CL_RNG_INIT (UINT64_C(3) << 40)
#define CL_RNG_POISSON_SOURCE (UINT64_C(4) << 40)
#define CL_RNG_POISSON_INPUT (UINT64_C(5) << 40)
#define CL_RNG_TOTAL (UINT64_C(6) << 40)

typedef struct {
  uint64_t key[2];
  uint64_t ctr[4];
  uint64_t buf[4];
  int left; /* unused words in buf */
} cl_rng;

/* Starts the stream named (seed, domain, a, b) at its beginning. */
void cl_rng_init(cl_rng *r, uint64_t seed, uint64_t domain, uint64_t a, uint64_t b);
/* 64 random bits. */
uint64_t cl_rng_u64(cl_rng *r);
/* Uniform on [0, 1) with 53 random bits. */
double cl_rng_uniform(cl_rng *r);
/* Uniform on (0, 1]: safe for log(). */
double cl_rng_uniform_pos(cl_rng *r);
/* Uniform integer in [0, n), n > 0, without bias. */
uint64_t cl_rng_below(cl_rng *r, uint64_t n);
/* Standard normal (Box-Muller on two uniforms, no cached second value). */
double cl_rng_normal(cl_rng *r);
/* Exponential with mean 1. */
double cl_rng_exponential(cl_rng *r);
/* Poisson with the given mean (>= 0). */
uint64_t cl_rng_poisson(cl_rng *r, double mean);
/* Binomial(n, p). */
uint64_t cl_rng_binomial(cl_rng *r, uint64_t n, double p);

#endif
