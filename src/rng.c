#include "condlif/rng.h"

#include <math.h>

#include <Random123/philox.h>

void cl_rng_init(cl_rng *r, uint64_t seed, uint64_t domain, uint64_t a, uint64_t b) {
  r->key[0] = seed;
  r->key[1] = domain;
  r->ctr[0] = a;
  r->ctr[1] = b;
  r->ctr[2] = 0;
  r->ctr[3] = 0;
  r->left = 0;
}

static void refill(cl_rng *r) {
  philox4x64_ctr_t c = {{r->ctr[0], r->ctr[1], r->ctr[2], r->ctr[3]}};
  philox4x64_key_t k = {{r->key[0], r->key[1]}};
  philox4x64_ctr_t out = philox4x64(c, k);
  for (int i = 0; i < 4; i++)
    r->buf[i] = out.v[i];
  r->left = 4;
  if (++r->ctr[2] == 0)
    ++r->ctr[3];
}

uint64_t cl_rng_u64(cl_rng *r) {
  if (r->left == 0)
    refill(r);
  return r->buf[--r->left];
}

double cl_rng_uniform(cl_rng *r) {
  return (double)(cl_rng_u64(r) >> 11) * 0x1.0p-53;
}

double cl_rng_uniform_pos(cl_rng *r) {
  return ((double)(cl_rng_u64(r) >> 11) + 1.0) * 0x1.0p-53;
}

uint64_t cl_rng_below(cl_rng *r, uint64_t n) {
  /* Lemire's multiply-and-reject. */
  uint64_t x = cl_rng_u64(r);
  __uint128_t m = (__uint128_t)x * n;
  uint64_t low = (uint64_t)m;
  if (low < n) {
    uint64_t threshold = -n % n;
    while (low < threshold) {
      x = cl_rng_u64(r);
      m = (__uint128_t)x * n;
      low = (uint64_t)m;
    }
  }
  return (uint64_t)(m >> 64);
}

double cl_rng_normal(cl_rng *r) {
  double u1 = cl_rng_uniform_pos(r);
  double u2 = cl_rng_uniform(r);
  return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

double cl_rng_exponential(cl_rng *r) {
  return -log(cl_rng_uniform_pos(r));
}

uint64_t cl_rng_poisson(cl_rng *r, double mean) {
  if (mean <= 0.0)
    return 0;
  if (mean < 30.0) {
    /* Multiplication of uniforms (Knuth). */
    double limit = exp(-mean), prod = cl_rng_uniform_pos(r);
    uint64_t k = 0;
    while (prod > limit) {
      prod *= cl_rng_uniform_pos(r);
      k++;
    }
    return k;
  }
  /* Transformed rejection with squeeze (Hormann 1993, PTRS). */
  double slam = sqrt(mean), loglam = log(mean);
  double b = 0.931 + 2.53 * slam, a = -0.059 + 0.02483 * b;
  double invalpha = 1.1239 + 1.1328 / (b - 3.4), vr = 0.9277 - 3.6224 / (b - 2);
  for (;;) {
    double u = cl_rng_uniform(r) - 0.5, v = cl_rng_uniform_pos(r);
    double us = 0.5 - fabs(u);
    double k = floor((2 * a / us + b) * u + mean + 0.43);
    if (us >= 0.07 && v <= vr)
      return (uint64_t)k;
    if (k < 0 || (us < 0.013 && v > us))
      continue;
    if (log(v) + log(invalpha) - log(a / (us * us) + b) <= -mean + k * loglam - lgamma(k + 1))
      return (uint64_t)k;
  }
}

uint64_t cl_rng_binomial(cl_rng *r, uint64_t n, double p) {
  if (n == 0 || p <= 0.0)
    return 0;
  if (p >= 1.0)
    return n;
  if (p > 0.5)
    return n - cl_rng_binomial(r, n, 1.0 - p);
  /* Geometric skipping: cost proportional to the result. */
  double lq = log1p(-p);
  uint64_t k = 0, pos = 0;
  for (;;) {
    double skip = floor(log(cl_rng_uniform_pos(r)) / lq);
    if (skip >= (double)(n - pos))
      return k;
    pos += (uint64_t)skip + 1;
    k++;
    if (pos >= n)
      return k;
  }
}
