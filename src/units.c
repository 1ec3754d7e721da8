#include "condlif/units.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "condlif/error.h"

static const char *const dim_names[CL_NDIMS] = {
    "dimensionless number", "time",    "voltage",   "capacitance",
    "conductance",          "current", "frequency", "angle",
};
static const char *const dim_units[CL_NDIMS] = {"", "ms", "mV", "pF", "nS", "pA", "Hz", "rad"};

const char *cl_units_dim_name(cl_dim d) {
  return d < CL_NDIMS ? dim_names[d] : "?";
}
const char *cl_units_canonical(cl_dim d) {
  return d < CL_NDIMS ? dim_units[d] : "?";
}

/* Base units: factor from the unprefixed unit to the canonical one. */
static const struct {
  const char *symbol;
  cl_dim dim;
  double factor;
  int prefixable;
} bases[] = {
    {"s", CL_DIM_TIME, 1e3, 1},         {"V", CL_DIM_VOLTAGE, 1e3, 1},
    {"F", CL_DIM_CAPACITANCE, 1e12, 1}, {"S", CL_DIM_CONDUCTANCE, 1e9, 1},
    {"A", CL_DIM_CURRENT, 1e12, 1},     {"Hz", CL_DIM_FREQUENCY, 1.0, 1},
    {"rad", CL_DIM_ANGLE, 1.0, 1},      {"deg", CL_DIM_ANGLE, M_PI / 180.0, 0},
    {"min", CL_DIM_TIME, 6e4, 0},       {"h", CL_DIM_TIME, 3.6e6, 0},
};

static const struct {
  const char *symbol;
  double factor;
} prefixes[] = {
    {"G", 1e9},         {"M", 1e6},   {"k", 1e3},   {"m", 1e-3},        {"u", 1e-6},
    {"n", 1e-9},        {"p", 1e-12}, {"f", 1e-15}, {"\xc2\xb5", 1e-6}, /* micro sign */
    {"\xce\xbc", 1e-6},                                                 /* Greek mu */
};

int cl_units_find(const char *symbol, cl_dim *dim, double *factor) {
  size_t nb = sizeof bases / sizeof bases[0], np = sizeof prefixes / sizeof prefixes[0];
  for (size_t i = 0; i < nb; i++) {
    if (strcmp(symbol, bases[i].symbol) == 0) {
      *dim = bases[i].dim;
      *factor = bases[i].factor;
      return 1;
    }
  }
  for (size_t j = 0; j < np; j++) {
    size_t lp = strlen(prefixes[j].symbol);
    if (strncmp(symbol, prefixes[j].symbol, lp) != 0)
      continue;
    for (size_t i = 0; i < nb; i++) {
      if (bases[i].prefixable && strcmp(symbol + lp, bases[i].symbol) == 0) {
        *dim = bases[i].dim;
        /* Multiply in this order so that e.g. 1 ms is exactly 1 and 1 nS exactly 1. */
        *factor = bases[i].factor * prefixes[j].factor;
        if (fabs(*factor - nearbyint(*factor)) < 1e-9 * fabs(*factor))
          *factor = nearbyint(*factor);
        else {
          /* Exact negative powers of ten where the product lost the last bit. */
          double inv = 1.0 / *factor;
          if (fabs(inv - nearbyint(inv)) < 1e-9 * inv)
            *factor = 1.0 / nearbyint(inv);
        }
        return 1;
      }
    }
  }
  return 0;
}

/* Length of a decimal number at s ([+-]digits[.digits][e[+-]digits]), 0 if none. */
static size_t number_span(const char *s) {
  size_t i = 0, digits = 0;
  if (s[i] == '+' || s[i] == '-')
    i++;
  while (isdigit((unsigned char)s[i])) {
    i++;
    digits++;
  }
  if (s[i] == '.') {
    i++;
    while (isdigit((unsigned char)s[i])) {
      i++;
      digits++;
    }
  }
  if (digits == 0)
    return 0;
  if (s[i] == 'e' || s[i] == 'E') {
    size_t j = i + 1;
    if (s[j] == '+' || s[j] == '-')
      j++;
    if (isdigit((unsigned char)s[j])) {
      while (isdigit((unsigned char)s[j]))
        j++;
      i = j;
    }
  }
  return i;
}

/* num * factor, correctly rounded when factor is a power of ten (so "0.3 s" is exactly 300):
 * the decimal exponent is shifted in the text and read once by strtod. */
static double scale(const char *num, double factor) {
  double k = log10(factor);
  if (factor == 1.0 || fabs(k - nearbyint(k)) > 1e-12)
    return strtod(num, NULL) * factor;
  char mant[64];
  long e = 0;
  const char *ep = strpbrk(num, "eE");
  size_t lm = ep ? (size_t)(ep - num) : strlen(num);
  memcpy(mant, num, lm);
  mant[lm] = '\0';
  if (ep)
    e = strtol(ep + 1, NULL, 10);
  e = e > 100000 ? 100000 : e < -100000 ? -100000 : e;
  char buf[96];
  snprintf(buf, sizeof buf, "%se%ld", mant, e + (long)nearbyint(k));
  return strtod(buf, NULL);
}

int cl_units_parse(const char *text, cl_dim expected, double *value, char *msg, size_t msglen) {
  const char *s = text;
  while (isspace((unsigned char)*s))
    s++;
  size_t n = number_span(s);
  if (n == 0 || n >= 64) {
    snprintf(msg, msglen, "not a number%s",
             expected != CL_DIM_NONE ? " (with an optional unit)" : "");
    return CL_ERR_USER;
  }
  char num[64];
  memcpy(num, s, n);
  num[n] = '\0';
  double x = strtod(num, NULL);
  if (!isfinite(x)) {
    snprintf(msg, msglen, "number out of range");
    return CL_ERR_USER;
  }
  s += n;
  while (isspace((unsigned char)*s))
    s++;
  char unit[32];
  size_t lu = strlen(s);
  while (lu > 0 && isspace((unsigned char)s[lu - 1]))
    lu--;
  if (lu >= sizeof unit) {
    snprintf(msg, msglen, "unknown unit \"%.*s\"", (int)lu, s);
    return CL_ERR_USER;
  }
  memcpy(unit, s, lu);
  unit[lu] = '\0';
  if (lu == 0) {
    *value = x;
    return CL_OK;
  }
  cl_dim dim;
  double factor;
  if (!cl_units_find(unit, &dim, &factor)) {
    snprintf(msg, msglen, "unknown unit \"%s\"", unit);
    return CL_ERR_USER;
  }
  if (dim != expected) {
    snprintf(msg, msglen, "%s is a unit of %s%s", unit, dim_names[dim],
             expected == CL_DIM_NONE ? "; a plain number is expected" : "");
    return CL_ERR_USER;
  }
  double v = scale(num, factor);
  if (!isfinite(v)) {
    snprintf(msg, msglen, "number out of range");
    return CL_ERR_USER;
  }
  *value = v;
  return CL_OK;
}

void cl_units_format_double(double v, char *buf, size_t len) {
  int prec = 1;
  for (; prec < 17; prec++) {
    snprintf(buf, len, "%.*g", prec, v);
    if (strtod(buf, NULL) == v)
      break;
  }
  snprintf(buf, len, "%.*g", prec, v);
  /* Plain decimal notation for ordinary magnitudes ("200", "0.001", not "2e+02"). */
  double a = fabs(v);
  if (strpbrk(buf, "eE") && a >= 1e-5 && a < 1e16) {
    int e10 = (int)floor(log10(a));
    int decimals = prec - 1 - e10;
    char alt[64];
    snprintf(alt, sizeof alt, "%.*f", decimals > 0 ? decimals : 0, v);
    if (strtod(alt, NULL) == v && strlen(alt) < len)
      snprintf(buf, len, "%s", alt);
  }
}
