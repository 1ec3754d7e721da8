/* Physical units of configuration values: "198 pF", "0.05 nS", "1 s", "10 kHz".
 *
 * condlif computes in one unit system: ms, mV, pF, nS, pA, Hz (and rad for phases). A value in
 * a config file is either a bare number, taken in the canonical unit of its quantity, or a
 * string "<number> <unit>" (space optional) with an SI prefix (G M k m u µ n p f) on a base
 * unit (s V F S A Hz rad, plus deg). The unit must have the dimension the key expects. Pure
 * functions: no MPI, no allocation, no global state. */
#ifndef CONDLIF_UNITS_H
#define CONDLIF_UNITS_H

#include <stddef.h>

typedef enum {
  CL_DIM_NONE = 0,    /* dimensionless (probabilities, counts) */
  CL_DIM_TIME,        /* ms */
  CL_DIM_VOLTAGE,     /* mV */
  CL_DIM_CAPACITANCE, /* pF */
  CL_DIM_CONDUCTANCE, /* nS */
  CL_DIM_CURRENT,     /* pA */
  CL_DIM_FREQUENCY,   /* Hz */
  CL_DIM_ANGLE,       /* rad */
  CL_NDIMS
} cl_dim;

/* "time", "voltage", ... (static strings). */
const char *cl_units_dim_name(cl_dim d);
/* Canonical unit of a dimension: "ms", "mV", "pF", "nS", "pA", "Hz", "rad"; "" for NONE. */
const char *cl_units_canonical(cl_dim d);

/* Looks up a unit symbol ("nF", "kHz", "us", "µs", "deg"). On success returns 1 and sets *dim
 * and *factor (value in canonical units = number * factor); returns 0 for an unknown symbol. */
int cl_units_find(const char *symbol, cl_dim *dim, double *factor);

/* Parses "<number>[ ]<unit>" (surrounding blanks allowed; no unit: canonical) into *value in
 * canonical units, checking that the unit has dimension expected. On failure returns
 * CL_ERR_USER and writes the reason ("mV is a unit of voltage", "unknown unit \"nX\"", "not
 * a number") into msg; records no error (the caller adds file, line and key). */
int cl_units_parse(const char *text, cl_dim expected, double *value, char *msg, size_t msglen);

/* Shortest "%.*g" representation of v that reads back as exactly v (at most 17 digits). */
void cl_units_format_double(double v, char *buf, size_t len);

#endif
