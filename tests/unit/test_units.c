/* units: unit strings, prefixes, dimension checks, number formatting. */
#include "condlif/units.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "condlif/error.h"

#include "check.h"

/* Parses text as dim and compares with want exactly. */
static void ok(const char *text, cl_dim dim, double want) {
  double v = NAN;
  char msg[256] = "";
  int st = cl_units_parse(text, dim, &v, msg, sizeof msg);
  if (st != CL_OK || v != want) {
    fprintf(stderr, "  \"%s\": status %d, value %.17g, want %.17g (%s)\n", text, st, v, want, msg);
    failures++;
  }
}

/* Expects text to be rejected with a reason containing what. */
static void bad(const char *text, cl_dim dim, const char *what) {
  double v = 42;
  char msg[256] = "";
  int st = cl_units_parse(text, dim, &v, msg, sizeof msg);
  if (st != CL_ERR_USER || !strstr(msg, what) || v != 42) {
    fprintf(stderr, "  \"%s\": status %d, message \"%s\", want one containing \"%s\"\n", text, st,
            msg, what);
    failures++;
  }
}

int main(void) {
  /* canonical units and bare numbers */
  ok("198 pF", CL_DIM_CAPACITANCE, 198);
  ok("0.05 nS", CL_DIM_CONDUCTANCE, 0.05);
  ok("20 ms", CL_DIM_TIME, 20);
  ok("5 Hz", CL_DIM_FREQUENCY, 5);
  ok("-70 mV", CL_DIM_VOLTAGE, -70);
  ok("150 pA", CL_DIM_CURRENT, 150);
  ok("12.5", CL_DIM_TIME, 12.5);
  ok("  -3e2 ", CL_DIM_VOLTAGE, -300);
  ok("20ms", CL_DIM_TIME, 20);
  /* prefixes: exact results for powers of ten */
  ok("1 s", CL_DIM_TIME, 1000);
  ok("0.3 s", CL_DIM_TIME, 300);
  ok("2.5e-3 s", CL_DIM_TIME, 2.5);
  ok("100 us", CL_DIM_TIME, 0.1);
  ok("100 \xc2\xb5s", CL_DIM_TIME, 0.1);
  ok("0.2 nF", CL_DIM_CAPACITANCE, 200);
  ok("1 uF", CL_DIM_CAPACITANCE, 1e6);
  ok("1 uS", CL_DIM_CONDUCTANCE, 1000);
  ok("1 mS", CL_DIM_CONDUCTANCE, 1e6);
  ok("500 pS", CL_DIM_CONDUCTANCE, 0.5);
  ok("10 kHz", CL_DIM_FREQUENCY, 1e4);
  ok("0.5 nA", CL_DIM_CURRENT, 500);
  ok("-0.07 V", CL_DIM_VOLTAGE, -70);
  ok("250 uV", CL_DIM_VOLTAGE, 0.25);
  ok("3 fA", CL_DIM_CURRENT, 0.003);
  ok("180 deg", CL_DIM_ANGLE, M_PI);
  ok("30 min", CL_DIM_TIME, 1.8e6);
  ok("2 h", CL_DIM_TIME, 7.2e6);
  bad("1 kmin", CL_DIM_TIME, "unknown unit \"kmin\"");
  ok("1.5 rad", CL_DIM_ANGLE, 1.5);
  ok("0.25", CL_DIM_NONE, 0.25);
  /* dimension errors name both units */
  bad("5 mV", CL_DIM_CONDUCTANCE, "mV is a unit of voltage");
  bad("20 ms", CL_DIM_FREQUENCY, "time");
  bad("1 Hz", CL_DIM_NONE, "plain number");
  bad("200 pX", CL_DIM_CAPACITANCE, "unknown unit \"pX\"");
  bad("200 mdeg", CL_DIM_ANGLE, "unknown unit");
  bad("pF", CL_DIM_CAPACITANCE, "not a number");
  bad("", CL_DIM_TIME, "not a number");
  bad("abc", CL_DIM_TIME, "not a number");
  bad("inf ms", CL_DIM_TIME, "not a number");
  bad("1e999 ms", CL_DIM_TIME, "out of range");
  bad("5 m V", CL_DIM_VOLTAGE, "unknown unit");
  /* lookups */
  cl_dim d;
  double f;
  CHECK(cl_units_find("MHz", &d, &f) && d == CL_DIM_FREQUENCY && f == 1e6);
  CHECK(cl_units_find("nS", &d, &f) && d == CL_DIM_CONDUCTANCE && f == 1);
  CHECK(!cl_units_find("ohm", &d, &f));
  CHECK(strcmp(cl_units_canonical(CL_DIM_CONDUCTANCE), "nS") == 0);
  CHECK(strcmp(cl_units_dim_name(CL_DIM_CAPACITANCE), "capacitance") == 0);
  /* shortest round-trip formatting, plain notation for ordinary magnitudes */
  char buf[64];
  const double vals[] = {
      200, 0.1, -70, 1.4715177646857693, 1e-7, 1e300, 0.018393972058572117, 123456789012.5, -0.0};
  const char *want[] = {"200",
                        "0.1",
                        "-70",
                        "1.4715177646857693",
                        "1e-07",
                        "1e+300",
                        "0.018393972058572117",
                        "123456789012.5",
                        "-0"};
  for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
    cl_units_format_double(vals[i], buf, sizeof buf);
    if (strcmp(buf, want[i]) != 0 || strtod(buf, NULL) != vals[i]) {
      fprintf(stderr, "  format %.17g: \"%s\", want \"%s\"\n", vals[i], buf, want[i]);
      failures++;
    }
  }
  if (failures)
    fprintf(stderr, "test_units: %d check(s) failed\n", failures);
  return failures != 0;
}
