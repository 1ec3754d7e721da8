/* The network description: libconfig text -> validated cl_config. Format: config/README.md.
 *
 * Parsing walks the libconfig tree section by section. Every value goes through one of the
 * readers below (quantity with unit, integer, bool, enum, distribution, selection), which
 * record an error "file:line: key.path: got <value>: expected <what>" on failure. Unknown
 * keys are errors with a "did you mean". --set overrides are applied to the tree before
 * validation, so they pass the same checks; settings they create are located as "--set". */
#include "condlif/config.h"

#include <ctype.h>
#include <errno.h>
#include <hdf5.h>
#include <libconfig.h>
#include <limits.h>
#include <math.h>
#include <mpi.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "condlif/error.h"
#include "condlif/units.h"

const char *const cl_var_names[CL_NVARS] = {"V_m", "g_ex", "x_ex", "g_in", "x_in"};
const char *const cl_var_units[CL_NVARS] = {"mV", "nS", "nS", "nS", "nS"};

/* ------------------------------------------------------------------------------------------ */
/* Parser state and messages                                                                  */

typedef struct {
  const char *path;      /* file name for messages */
  char dir[CL_PATH_MAX]; /* its directory ("" : current), for relative input files */
  config_t lc;
  cl_config *cfg;
  int warn;
  /* element settings of the projections, for warnings after the whole file is read */
  config_setting_t **proj_settings;
} parser;

/* Hook value marking settings created by a --set override. */
static char override_mark;

enum { R_ANY = 0, R_POS, R_NONNEG, R_PROB };

static int is_projection_list(const config_setting_t *list) {
  const config_setting_t *p = config_setting_parent(list);
  return p && config_setting_is_root(p) && config_setting_name(list) &&
         strcmp(config_setting_name(list), "projections") == 0;
}
static int is_report_list(const config_setting_t *list) {
  const config_setting_t *p = config_setting_parent(list);
  return p && config_setting_name(p) && strcmp(config_setting_name(p), "recording") == 0 &&
         config_setting_parent(p) && config_setting_is_root(config_setting_parent(p)) &&
         config_setting_name(list) && strcmp(config_setting_name(list), "reports") == 0;
}
static int is_stimulus_list(const config_setting_t *list) {
  const config_setting_t *p = config_setting_parent(list);
  return p && config_setting_is_root(p) && config_setting_name(list) &&
         strcmp(config_setting_name(list), "stimuli") == 0;
}

/* Names of populations and reports: an identifier (they become HDF5 group and file names).
 * Names of projections and stimuli may also hold '-' and '>' ("exc->inh"). */
static int valid_name(const char *s, int loose) {
  size_t n = strlen(s);
  if (n == 0 || n >= CL_NAME_MAX || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
    return 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (!(isalnum(c) || c == '_' || (loose && (c == '-' || c == '>'))))
      return 0;
  }
  return 1;
}

/* The label of a list element without the uniqueness rule: its name, or for projections
 * "source->target" and for stimuli "type->target". */
static int raw_label(const config_setting_t *list, const config_setting_t *e, char *buf,
                     size_t len) {
  if (!e || !config_setting_is_group(e))
    return 0;
  int proj = is_projection_list(list), stim = is_stimulus_list(list);
  const char *name = NULL, *a = NULL, *b = NULL;
  if (config_setting_lookup_string(e, "name", &name))
    return valid_name(name, proj || stim) && snprintf(buf, len, "%s", name) > 0;
  if (proj && config_setting_lookup_string(e, "source", &a) &&
      config_setting_lookup_string(e, "target", &b) && valid_name(a, 0) && valid_name(b, 0))
    return snprintf(buf, len, "%s->%s", a, b) > 0;
  if (is_report_list(list) && config_setting_lookup_string(e, "population", &a) && valid_name(a, 0))
    return snprintf(buf, len, "%s", a) > 0;
  if (stim && config_setting_lookup_string(e, "type", &a) &&
      config_setting_lookup_string(e, "target", &b) && valid_name(a, 0) && valid_name(b, 0))
    return snprintf(buf, len, "%s->%s", a, b) > 0;
  return 0;
}

/* Label of element idx in messages and --set paths: its name when unique in the list, else
 * "[idx]". */
static void elem_label(const config_setting_t *list, int idx, char *buf, size_t len) {
  char mine[2 * CL_NAME_MAX + 4], other[2 * CL_NAME_MAX + 4];
  if (raw_label(list, config_setting_get_elem(list, (unsigned)idx), mine, sizeof mine)) {
    int dup = 0, n = config_setting_length(list);
    for (int j = 0; j < n && !dup; j++)
      dup = j != idx &&
            raw_label(list, config_setting_get_elem(list, (unsigned)j), other, sizeof other) &&
            strcmp(mine, other) == 0;
    if (!dup) {
      snprintf(buf, len, "%s", mine);
      return;
    }
  }
  snprintf(buf, len, "[%d]", idx);
}

/* Appends src to the NUL-terminated dst of capacity cap (truncating). */
static void append(char *dst, size_t cap, const char *src) {
  size_t used = strlen(dst), n = strlen(src);
  if (used + 1 >= cap)
    return;
  if (n > cap - used - 1)
    n = cap - used - 1;
  memcpy(dst + used, src, n);
  dst[used + n] = '\0';
}

static void setting_path(const config_setting_t *s, char *buf, size_t len) {
  const config_setting_t *parent = s ? config_setting_parent(s) : NULL;
  buf[0] = '\0';
  if (!parent)
    return;
  char me[160];
  setting_path(parent, buf, len);
  if (config_setting_name(s))
    snprintf(me, sizeof me, "%s", config_setting_name(s));
  else
    elem_label(parent, config_setting_index(s), me, sizeof me);
  if (buf[0])
    append(buf, len, ".");
  append(buf, len, me);
}

static void location(const parser *P, const config_setting_t *s, char *buf, size_t len) {
  if (s && config_setting_get_hook(s) == &override_mark) {
    snprintf(buf, len, "--set");
    return;
  }
  int line = s ? config_setting_source_line(s) : 0;
  if (line > 0)
    snprintf(buf, len, "%s:%d", P->path, line);
  else
    snprintf(buf, len, "%s", P->path);
}

/* "path.key" of a setting (key NULL: the setting itself). */
static void key_path(const config_setting_t *s, const char *key, char *buf, size_t len) {
  setting_path(s, buf, len);
  if (key) {
    if (buf[0])
      append(buf, len, ".");
    append(buf, len, key);
  }
}

/* Records "loc: path[.key]: message" as a user error. */
__attribute__((format(printf, 4, 5))) static int fail(parser *P, const config_setting_t *s,
                                                      const char *key, const char *fmt, ...) {
  char loc[CL_PATH_MAX + 32], path[1200], msg[2048];
  location(P, s, loc, sizeof loc);
  key_path(s, key, path, sizeof path);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return CL_ERROR(CL_ERR_USER, "%s: %s: %s", loc, path, msg);
}

__attribute__((format(printf, 4, 5))) static void warn(parser *P, const config_setting_t *s,
                                                       const char *key, const char *fmt, ...) {
  if (!P->warn)
    return;
  char loc[CL_PATH_MAX + 32], path[1200], msg[2048];
  location(P, s, loc, sizeof loc);
  key_path(s, key, path, sizeof path);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  fprintf(stderr, "%s: warning: %s: %s\n", loc, path, msg);
}

static void fmt_num(double v, char *buf, size_t len) {
  cl_units_format_double(v, buf, len);
}

/* The value of a setting as written, for "got ...". */
static void describe(const config_setting_t *s, char *buf, size_t len) {
  switch (config_setting_type(s)) {
  case CONFIG_TYPE_INT:
  case CONFIG_TYPE_INT64:
    snprintf(buf, len, "%lld", config_setting_get_int64(s));
    break;
  case CONFIG_TYPE_FLOAT:
    fmt_num(config_setting_get_float(s), buf, len);
    break;
  case CONFIG_TYPE_BOOL:
    snprintf(buf, len, "%s", config_setting_get_bool(s) ? "true" : "false");
    break;
  case CONFIG_TYPE_STRING:
    snprintf(buf, len, "\"%.200s\"", config_setting_get_string(s));
    break;
  case CONFIG_TYPE_GROUP:
    snprintf(buf, len, "a group {...}");
    break;
  case CONFIG_TYPE_ARRAY:
    snprintf(buf, len, "an array [...]");
    break;
  case CONFIG_TYPE_LIST:
    snprintf(buf, len, "a list (...)");
    break;
  default:
    snprintf(buf, len, "?");
  }
}

/* "got <value>: expected <what>[: <why>]" at setting s. */
static int fail_value(parser *P, const config_setting_t *s, const char *what, const char *why) {
  char got[256];
  describe(s, got, sizeof got);
  return fail(P, s, NULL, "got %s: expected %s%s%s", got, what, why ? ": " : "", why ? why : "");
}

/* ------------------------------------------------------------------------------------------ */
/* Did you mean                                                                               */

static size_t edit_distance(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  if (la > 63 || lb > 63)
    return 64;
  size_t d[64][64];
  for (size_t i = 0; i <= la; i++)
    d[i][0] = i;
  for (size_t j = 0; j <= lb; j++)
    d[0][j] = j;
  for (size_t i = 1; i <= la; i++) {
    for (size_t j = 1; j <= lb; j++) {
      size_t cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
      size_t v = d[i - 1][j] + 1;
      if (d[i][j - 1] + 1 < v)
        v = d[i][j - 1] + 1;
      if (d[i - 1][j - 1] + cost < v)
        v = d[i - 1][j - 1] + cost;
      if (i > 1 && j > 1 && tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 2]) &&
          tolower((unsigned char)a[i - 2]) == tolower((unsigned char)b[j - 1]) &&
          d[i - 2][j - 2] + 1 < v)
        v = d[i - 2][j - 2] + 1;
      d[i][j] = v;
    }
  }
  return d[la][lb];
}

/* Names other simulators use for condlif's keys. */
static const char *const aliases[][2] = {
    {"tau_syn_ex", "tau_ex"},
    {"tau_syn_in", "tau_in"},
    {"tau_syn_E", "tau_ex"},
    {"tau_syn_I", "tau_in"},
    {"tau_e", "tau_ex"},
    {"tau_i", "tau_in"},
    {"tau_refrac", "t_ref"},
    {"refractory", "t_ref"},
    {"tau_ref", "t_ref"},
    {"V_thresh", "V_th"},
    {"threshold", "V_th"},
    {"v_rest", "E_L"},
    {"V_r", "V_reset"},
    {"E_e", "E_ex"},
    {"E_i", "E_in"},
    {"E_rev_E", "E_ex"},
    {"E_rev_I", "E_in"},
    {"cm", "C_m"},
    {"indegree", "k"},
    {"outdegree", "k"},
    {"K", "k"},
    {"N", "n"},
    {"prob", "p"},
    {"probability", "p"},
    {"connection_probability", "p"},
    {"autapses", "allow_autapses"},
    {"multapses", "allow_multapses"},
    {"receptor_type", "receptor"},
    {"synapse_type", "receptor"},
    {"weights", "weight"},
    {"delays", "delay"},
    {"N", "size"},
    {"n", "size"},
    {"count", "size"},
    {"rate_hz", "rate"},
    {"frequency_hz", "frequency"},
    {"resolution", "dt"},
    {"simtime", "t_stop"},
    {"duration", "t_stop"},
    {"T", "t_stop"},
    {"tstop", "t_stop"},
    {"rng_seed", "seed"},
    {"output_dir", "output"},
    {"spike_times", "times"},
    {"ids", "neurons"},
    {"targets", "neurons"},
    {"std", "sd"},
    {"lower", "low"},
    {"upper", "high"},
    {"dist", "distribution"},
    {"vars", "variables"},
    {"record", "variables"},
    {"dt_record", "interval"},
};

/* Best suggestion for word among the NULL-terminated candidates, or NULL. */
static const char *suggest(const char *word, const char *const *cands) {
  for (size_t a = 0; a < sizeof aliases / sizeof aliases[0]; a++) {
    if (strcmp(word, aliases[a][0]) == 0) {
      for (size_t i = 0; cands[i]; i++)
        if (strcmp(cands[i], aliases[a][1]) == 0)
          return cands[i];
    }
  }
  const char *best = NULL;
  size_t bestd = 0, lw = strlen(word);
  /* a unique candidate that starts with word ("V" -> "V_m") */
  for (size_t i = 0; cands[i] && lw > 0; i++) {
    if (strncmp(cands[i], word, lw) == 0 && strlen(cands[i]) > lw) {
      if (best) {
        best = NULL;
        break;
      }
      best = cands[i];
    }
  }
  if (best)
    return best;
  for (size_t i = 0; cands[i]; i++) {
    size_t d = edit_distance(word, cands[i]);
    size_t lim = lw / 3 > 1 ? lw / 3 : 1;
    if (lw >= 6 && lim < 2)
      lim = 2;
    if (d <= lim && (!best || d < bestd)) {
      best = cands[i];
      bestd = d;
    }
  }
  return best;
}

typedef struct {
  const char *what;        /* "a poisson_source population" */
  const char *const *keys; /* NULL-terminated */
} keyset;

static int in_list(const char *s, const char *const *list) {
  for (size_t i = 0; list[i]; i++)
    if (strcmp(s, list[i]) == 0)
      return 1;
  return 0;
}

/* "a" or "an" before a name, for messages ("an all_to_all projection"). */
static const char *article(const char *name) {
  return name[0] && strchr("aeiou", name[0]) ? "an" : "a";
}

/* Every member of group g must be one of allowed; what names the group ("a cond_alpha
 * population"); others are the key sets of sibling variants, for a better hint. */
static int check_keys(parser *P, const config_setting_t *g, const char *const *allowed,
                      const char *what, const keyset *others, size_t n_others) {
  int n = config_setting_length(g);
  for (int i = 0; i < n; i++) {
    const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
    const char *key = config_setting_name(m);
    if (!key || in_list(key, allowed))
      continue;
    char owners[512] = "";
    for (size_t o = 0; o < n_others; o++) {
      if (in_list(key, others[o].keys)) {
        if (owners[0])
          append(owners, sizeof owners, " and of ");
        append(owners, sizeof owners, others[o].what);
      }
    }
    if (owners[0])
      return fail(P, m, NULL, "unknown key in %s (it is a key of %s)", what, owners);
    const char *s = suggest(key, allowed);
    if (s)
      return fail(P, m, NULL, "unknown key in %s (did you mean %s?)", what, s);
    char known[1024] = "";
    for (size_t k = 0; allowed[k]; k++) {
      size_t used = strlen(known);
      snprintf(known + used, sizeof known - used, "%s%s", k ? ", " : "", allowed[k]);
    }
    return fail(P, m, NULL, "unknown key in %s (known keys: %s)", what, known);
  }
  return CL_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Scalar readers                                                                             */

static void expect_text(cl_dim dim, int range, char *buf, size_t len) {
  const char *cmp = range == R_POS ? " > 0" : range == R_NONNEG ? " >= 0" : "";
  if (range == R_PROB)
    snprintf(buf, len, "a probability in [0, 1]");
  else if (dim == CL_DIM_NONE)
    snprintf(buf, len, "a number%s", cmp);
  else
    snprintf(buf, len, "%s %s%s (%s)", article(cl_units_dim_name(dim)), cl_units_dim_name(dim), cmp,
             cl_units_canonical(dim));
}

static int in_range(double v, int range) {
  switch (range) {
  case R_POS:
    return v > 0;
  case R_NONNEG:
    return v >= 0;
  case R_PROB:
    return v >= 0 && v <= 1;
  default:
    return 1;
  }
}

/* A number (canonical unit) or a string with a unit; checks the range. */
static int q_get(parser *P, const config_setting_t *s, cl_dim dim, int range, double *out) {
  char what[160];
  expect_text(dim, range, what, sizeof what);
  double v;
  int t = config_setting_type(s);
  if (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64) {
    v = (double)config_setting_get_int64(s);
  } else if (t == CONFIG_TYPE_FLOAT) {
    v = config_setting_get_float(s);
    if (!isfinite(v))
      return fail_value(P, s, what, "not a finite number");
  } else if (t == CONFIG_TYPE_STRING) {
    char why[256];
    if (cl_units_parse(config_setting_get_string(s), dim, &v, why, sizeof why) != CL_OK)
      return fail_value(P, s, what, why);
  } else {
    return fail_value(P, s, what, NULL);
  }
  if (!in_range(v, range))
    return fail_value(P, s, what, NULL);
  *out = v;
  return CL_OK;
}

/* Member key of g: absent and !required leaves *out (the default) alone. */
static int q_member(parser *P, const config_setting_t *g, const char *key, cl_dim dim, int range,
                    int required, double *out) {
  const config_setting_t *s = config_setting_get_member(g, key);
  if (!s) {
    if (!required)
      return CL_OK;
    char what[160];
    expect_text(dim, range, what, sizeof what);
    return fail(P, g, key, "missing: expected %s", what);
  }
  return q_get(P, s, dim, range, out);
}

/* A non-negative integer in [lo, hi]: an int, an integral float or a string of digits (for
 * values beyond libconfig 1.5's 32-bit integers). */
static int u_get(parser *P, const config_setting_t *s, uint64_t lo, uint64_t hi, const char *what,
                 uint64_t *out) {
  int t = config_setting_type(s);
  uint64_t u;
  if (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64) {
    long long v = config_setting_get_int64(s);
    if (v < 0)
      return fail_value(P, s, what, NULL);
    u = (uint64_t)v;
  } else if (t == CONFIG_TYPE_FLOAT) {
    double v = config_setting_get_float(s);
    if (!(v >= 0 && v <= 9007199254740992.0 && v == floor(v)))
      return fail_value(P, s, what, "not a whole number");
    u = (uint64_t)v;
  } else if (t == CONFIG_TYPE_STRING) {
    const char *str = config_setting_get_string(s);
    char *end;
    errno = 0;
    if (!isdigit((unsigned char)str[0]))
      return fail_value(P, s, what, NULL);
    u = strtoull(str, &end, 10);
    if (errno || *end)
      return fail_value(P, s, what, NULL);
  } else {
    return fail_value(P, s, what, NULL);
  }
  if (u < lo || u > hi)
    return fail_value(P, s, what, NULL);
  *out = u;
  return CL_OK;
}

static int u_member(parser *P, const config_setting_t *g, const char *key, uint64_t lo, uint64_t hi,
                    const char *what, int required, uint64_t *out) {
  const config_setting_t *s = config_setting_get_member(g, key);
  if (!s)
    return required ? fail(P, g, key, "missing: expected %s", what) : CL_OK;
  return u_get(P, s, lo, hi, what, out);
}

static int bool_member(parser *P, const config_setting_t *g, const char *key, int *out) {
  const config_setting_t *s = config_setting_get_member(g, key);
  if (!s)
    return CL_OK;
  if (config_setting_type(s) != CONFIG_TYPE_BOOL)
    return fail_value(P, s, "true or false", NULL);
  *out = config_setting_get_bool(s);
  return CL_OK;
}

static int string_get(parser *P, const config_setting_t *s, const char *what, const char **out) {
  if (config_setting_type(s) != CONFIG_TYPE_STRING)
    return fail_value(P, s, what, NULL);
  *out = config_setting_get_string(s);
  return CL_OK;
}

static int string_member(parser *P, const config_setting_t *g, const char *key, const char *what,
                         int required, const char **out) {
  const config_setting_t *s = config_setting_get_member(g, key);
  if (!s)
    return required ? fail(P, g, key, "missing: expected %s", what) : CL_OK;
  return string_get(P, s, what, out);
}

/* One of names (NULL-terminated) -> its index. */
static int enum_get(parser *P, const config_setting_t *s, const char *const *names, int *out) {
  char what[512] = "one of ";
  for (size_t i = 0; names[i]; i++) {
    size_t used = strlen(what);
    snprintf(what + used, sizeof what - used, "%s\"%s\"", i ? ", " : "", names[i]);
  }
  if (config_setting_type(s) != CONFIG_TYPE_STRING)
    return fail_value(P, s, what, NULL);
  const char *v = config_setting_get_string(s);
  for (int i = 0; names[i]; i++) {
    if (strcmp(v, names[i]) == 0) {
      *out = i;
      return CL_OK;
    }
  }
  const char *sug = suggest(v, names);
  char why[128];
  snprintf(why, sizeof why, "did you mean \"%s\"?", sug ? sug : "");
  return fail_value(P, s, what, sug ? why : NULL);
}

static int enum_member(parser *P, const config_setting_t *g, const char *key,
                       const char *const *names, int required, int *out) {
  const config_setting_t *s = config_setting_get_member(g, key);
  if (!s) {
    if (!required)
      return CL_OK;
    char what[512] = "one of ";
    for (size_t i = 0; names[i]; i++) {
      size_t used = strlen(what);
      snprintf(what + used, sizeof what - used, "%s\"%s\"", i ? ", " : "", names[i]);
    }
    return fail(P, g, key, "missing: expected %s", what);
  }
  return enum_get(P, s, names, out);
}

static int expect_group(parser *P, const config_setting_t *s, const char *what) {
  if (!config_setting_is_group(s))
    return fail_value(P, s, what, NULL);
  return CL_OK;
}

/* A list ( {...}, {...} ) of groups; a single group is not accepted, to keep one form. */
static int expect_list_of_groups(parser *P, const config_setting_t *s, const char *what) {
  char w[256];
  snprintf(w, sizeof w, "a list ( {...}, {...} ) of %s", what);
  if (!config_setting_is_list(s))
    return fail_value(P, s, w, NULL);
  int n = config_setting_length(s);
  for (int i = 0; i < n; i++) {
    const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
    if (!config_setting_is_group(e)) {
      snprintf(w, sizeof w, "a group { ... } describing %s", what);
      return fail_value(P, e, w, NULL);
    }
  }
  return CL_OK;
}

/* Numbers (or unit strings) of an array or list -> malloc'ed doubles. */
static int q_array(parser *P, const config_setting_t *s, cl_dim dim, int range, size_t *n,
                   double **out) {
  char what[200];
  expect_text(dim, range, what, sizeof what);
  if (!(config_setting_is_array(s) || config_setting_is_list(s))) {
    char w[260];
    snprintf(w, sizeof w, "an array [...] of values, each %s", what);
    return fail_value(P, s, w, NULL);
  }
  size_t len = (size_t)config_setting_length(s);
  double *v = cl_malloc(len * sizeof *v);
  CL_ALLOC_CHECK(v);
  for (size_t i = 0; i < len; i++) {
    int st = q_get(P, config_setting_get_elem(s, (unsigned)i), dim, range, &v[i]);
    if (st != CL_OK) {
      free(v);
      return st;
    }
  }
  *n = len;
  *out = v;
  return CL_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Distributions                                                                              */

static double phi(double x) {
  return 0.5 * erfc(-x / M_SQRT2);
}

static const char *const dist_names[] = {"uniform", "normal", "lognormal", NULL};
static const char *const keys_uniform[] = {"distribution", "low", "high", NULL};
static const char *const keys_normal[] = {"distribution", "mean", "sd", "min", "max", NULL};
static const char *const keys_lognormal[] = {"distribution", "mean", "sd", "mu", "sigma", NULL};

/* A constant (number or unit string) or { distribution = "uniform" | "normal" | "lognormal";
 * ... }. range constrains every value that can be drawn. */
static int dist_get(parser *P, const config_setting_t *s, cl_dim dim, int range, cl_dist *out) {
  cl_dist d = {CL_DIST_CONST, 0, 0, -INFINITY, INFINITY};
  if (!config_setting_is_group(s)) {
    if (config_setting_is_aggregate(s)) {
      char what[200], w[300];
      expect_text(dim, range, what, sizeof what);
      snprintf(w, sizeof w, "%s or a distribution { distribution = \"uniform\"; ... }", what);
      return fail_value(P, s, w, NULL);
    }
    CL_CALL(q_get(P, s, dim, range, &d.a));
    d.lo = d.hi = d.a;
    *out = d;
    return CL_OK;
  }
  int kind = 0;
  CL_CALL(enum_member(P, s, "distribution", dist_names, 1, &kind));
  const char *const *keys = kind == 0 ? keys_uniform : kind == 1 ? keys_normal : keys_lognormal;
  char what[64];
  snprintf(what, sizeof what, "%s %s distribution", article(dist_names[kind]), dist_names[kind]);
  CL_CALL(check_keys(P, s, keys, what, NULL, 0));
  /* Bounds of the drawn values: range R_POS admits 0 as a bound (a draw of exactly the bound
   * has probability zero) but not below. */
  int brange = range == R_POS ? R_NONNEG : range;
  double lo_default = (range == R_POS || range == R_NONNEG || range == R_PROB) ? 0 : -INFINITY;
  double hi_default = range == R_PROB ? 1 : INFINITY;
  if (kind == 0) {
    d.kind = CL_DIST_UNIFORM;
    CL_CALL(q_member(P, s, "low", dim, brange, 1, &d.a));
    CL_CALL(q_member(P, s, "high", dim, brange, 1, &d.b));
    if (!(d.b > d.a)) {
      char w[96], lo[32];
      fmt_num(d.a, lo, sizeof lo);
      snprintf(w, sizeof w, "high > low (%s %s)", lo, cl_units_canonical(dim));
      return fail_value(P, config_setting_get_member(s, "high"), w, NULL);
    }
    d.lo = d.a;
    d.hi = d.b;
    *out = d;
    return CL_OK;
  }
  d.lo = lo_default;
  d.hi = hi_default;
  if (kind == 1) {
    CL_CALL(q_member(P, s, "min", dim, brange, 0, &d.lo));
    CL_CALL(q_member(P, s, "max", dim, brange, 0, &d.hi));
    const config_setting_t *smax = config_setting_get_member(s, "max");
    if (!(d.hi > d.lo))
      return fail(P, smax ? smax : s, smax ? NULL : "max", "expected max > min");
  }
  if (kind == 1) {
    d.kind = CL_DIST_NORMAL;
    CL_CALL(q_member(P, s, "mean", dim, R_ANY, 1, &d.a));
    CL_CALL(q_member(P, s, "sd", dim, R_NONNEG, 1, &d.b));
    double mass =
        d.b > 0 ? phi((d.hi - d.a) / d.b) - phi((d.lo - d.a) / d.b) : (d.a >= d.lo && d.a <= d.hi);
    if (mass < 1e-3) {
      char lo[32], hi[32];
      fmt_num(d.lo, lo, sizeof lo);
      fmt_num(d.hi, hi, sizeof hi);
      return fail(P, s, NULL,
                  "a normal distribution with less than 0.1%% of its mass inside [min, max] = "
                  "[%s, %s] %s: expected the mean inside or near the bounds",
                  lo, hi, cl_units_canonical(dim));
    }
    *out = d;
    return CL_OK;
  }
  d.kind = CL_DIST_LOGNORMAL;
  if (!(range == R_POS || range == R_NONNEG))
    return fail(P, s, NULL,
                "a lognormal distribution draws positive values only: expected a "
                "quantity that cannot be negative");
  const config_setting_t *smu = config_setting_get_member(s, "mu"),
                         *ssig = config_setting_get_member(s, "sigma"),
                         *smean = config_setting_get_member(s, "mean"),
                         *ssd = config_setting_get_member(s, "sd");
  if ((smu || ssig) && (smean || ssd))
    return fail(P, smu ? smu : ssig, NULL,
                "give either mean and sd (of the value) or mu and sigma (of its logarithm), "
                "not both");
  if (smu || ssig) {
    CL_CALL(q_member(P, s, "mu", CL_DIM_NONE, R_ANY, 1, &d.a));
    CL_CALL(q_member(P, s, "sigma", CL_DIM_NONE, R_NONNEG, 1, &d.b));
  } else {
    double mean = 0, sd = 0;
    CL_CALL(q_member(P, s, "mean", dim, R_POS, 1, &mean));
    CL_CALL(q_member(P, s, "sd", dim, R_NONNEG, 1, &sd));
    double s2 = log1p((sd / mean) * (sd / mean));
    d.b = sqrt(s2);
    d.a = log(mean) - 0.5 * s2;
  }
  *out = d;
  return CL_OK;
}

static int dist_member(parser *P, const config_setting_t *g, const char *key, cl_dim dim, int range,
                       int required, cl_dist *out) {
  const config_setting_t *s = config_setting_get_member(g, key);
  if (!s) {
    if (!required)
      return CL_OK;
    char what[160];
    expect_text(dim, range, what, sizeof what);
    return fail(P, g, key, "missing: expected %s or a distribution", what);
  }
  return dist_get(P, s, dim, range, out);
}

double cl_config_dist_mean(const cl_dist *d) {
  switch (d->kind) {
  case CL_DIST_CONST:
    return d->a;
  case CL_DIST_UNIFORM:
    return 0.5 * (d->a + d->b);
  case CL_DIST_NORMAL: {
    if (!(d->b > 0))
      return d->a;
    double al = (d->lo - d->a) / d->b, be = (d->hi - d->a) / d->b;
    double z = phi(be) - phi(al);
    double pa = isfinite(al) ? exp(-0.5 * al * al) : 0, pb = isfinite(be) ? exp(-0.5 * be * be) : 0;
    return z > 0 ? d->a + d->b * (pa - pb) / (sqrt(2 * M_PI) * z) : d->a;
  }
  case CL_DIST_LOGNORMAL: {
    double s = d->b, mu = d->a;
    if (!(s > 0))
      return exp(mu);
    double llo = d->lo > 0 ? log(d->lo) : -INFINITY, lhi = log(d->hi);
    double z = phi((lhi - mu) / s) - phi((llo - mu) / s);
    double num = phi((lhi - mu - s * s) / s) - phi((llo - mu - s * s) / s);
    return z > 0 ? exp(mu + 0.5 * s * s) * num / z : exp(mu + 0.5 * s * s);
  }
  }
  return d->a;
}

/* ------------------------------------------------------------------------------------------ */
/* Selections of neurons                                                                      */

static int push_id(uint64_t **ids, size_t *n, size_t *cap, uint64_t id) {
  if (*n == *cap) {
    size_t nc = *cap ? 2 * *cap : 64;
    uint64_t *p = cl_realloc(*ids, nc * sizeof *p);
    CL_ALLOC_CHECK(p);
    *ids = p;
    *cap = nc;
  }
  (*ids)[(*n)++] = id;
  return CL_OK;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

/* One item of a selection: an id, "first-last" (inclusive) or "id". */
static int sel_item(parser *P, const config_setting_t *s, uint64_t size, const char *what,
                    uint64_t **ids, size_t *n, size_t *cap, int *whole) {
  if (config_setting_type(s) == CONFIG_TYPE_STRING) {
    const char *str = config_setting_get_string(s);
    char *end;
    errno = 0;
    if (!isdigit((unsigned char)str[0]))
      return fail_value(P, s, what, NULL);
    uint64_t a = strtoull(str, &end, 10), b = a;
    if (*end == '-') {
      if (!isdigit((unsigned char)end[1]))
        return fail_value(P, s, what, NULL);
      b = strtoull(end + 1, &end, 10);
    }
    if (errno || *end || b < a)
      return fail_value(P, s, what, "a range is \"first-last\" with first <= last");
    if (b >= size) {
      char why[96];
      snprintf(why, sizeof why, "the population has ids 0 to %llu", (unsigned long long)size - 1);
      return fail_value(P, s, what, why);
    }
    if (a == 0 && b == size - 1) { /* the whole population: no list of ids */
      *whole = 1;
      return CL_OK;
    }
    for (uint64_t i = a; i <= b; i++)
      CL_CALL(push_id(ids, n, cap, i));
    return CL_OK;
  }
  uint64_t id = 0;
  CL_CALL(u_get(P, s, 0, size - 1, what, &id));
  return push_id(ids, n, cap, id);
}

/* Member "neurons" of g: absent or "all" selects the whole population. */
/* The selection of setting s (NULL: all) of a population of size neurons; `prefix` starts the
 * expectation of a message (what else the key accepts). */
static int selection_get(parser *P, const config_setting_t *s, uint64_t size, const char *prefix,
                         cl_selection *out) {
  memset(out, 0, sizeof *out);
  out->all = 1;
  if (!s)
    return CL_OK;
  char what[240];
  snprintf(what, sizeof what,
           "%s\"all\", an id in [0, %llu], a range \"first-last\" or a list of ids and ranges",
           prefix, (unsigned long long)size - 1);
  if (config_setting_type(s) == CONFIG_TYPE_STRING &&
      strcmp(config_setting_get_string(s), "all") == 0)
    return CL_OK;
  uint64_t *ids = NULL;
  size_t n = 0, cap = 0;
  int st = CL_OK, whole = 0;
  if (config_setting_is_array(s) || config_setting_is_list(s)) {
    int len = config_setting_length(s);
    if (len == 0)
      st = fail_value(P, s, what, "empty");
    for (int i = 0; i < len && st == CL_OK; i++)
      st = sel_item(P, config_setting_get_elem(s, (unsigned)i), size, what, &ids, &n, &cap, &whole);
  } else if (config_setting_is_group(s)) {
    st = fail_value(P, s, what, NULL);
  } else {
    st = sel_item(P, s, size, what, &ids, &n, &cap, &whole);
  }
  if (st != CL_OK) {
    free(ids);
    return st;
  }
  if (whole) {
    free(ids);
    return CL_OK;
  }
  qsort(ids, n, sizeof *ids, cmp_u64);
  size_t u = 0;
  for (size_t i = 0; i < n; i++)
    if (u == 0 || ids[i] != ids[u - 1])
      ids[u++] = ids[i];
  if (u == size) {
    free(ids);
    return CL_OK;
  }
  out->all = 0;
  out->n = u;
  out->ids = ids;
  return CL_OK;
}

static int selection_member(parser *P, const config_setting_t *g, uint64_t size,
                            cl_selection *out) {
  return selection_get(P, config_setting_get_member(g, "neurons"), size, "", out);
}

/* ------------------------------------------------------------------------------------------ */
/* simulation                                                                                 */

static const char *const mode_names[] = {"precise", "grid", NULL};
static const char *const keys_sim[] = {"dt",
                                       "t_stop",
                                       "seed",
                                       "min_delay",
                                       "max_delay",
                                       "output",
                                       "spike_flush_interval",
                                       "report_flush_interval",
                                       "threshold_mode",
                                       "checkpoint",
                                       "checkpoint_interval",
                                       "initial_state",
                                       NULL};
static const char *const checkpoint_names[] = {"stop", "end", "never", NULL};

#define CL_DEFAULT_SEED 12345
#define CL_DEFAULT_OUTPUT "condlif_run"

static int multiple_of(double x, double dt) {
  double r = x / dt;
  return fabs(r - nearbyint(r)) <= 1e-9 * (r > 1 ? r : 1);
}

static int parse_simulation(parser *P, config_setting_t *root) {
  cl_simulation_config *sim = &P->cfg->sim;
  sim->dt = 0.1;
  sim->seed = CL_DEFAULT_SEED;
  snprintf(sim->output, sizeof sim->output, "%s", CL_DEFAULT_OUTPUT);
  sim->spike_flush_interval = 1000.0;
  sim->report_flush_interval = 1000.0;
  sim->mode = CL_THRESHOLD_PRECISE;
  config_setting_t *g = config_setting_get_member(root, "simulation");
  if (!g)
    return fail(P, root, "simulation.t_stop",
                "missing: expected a section simulation = { t_stop = ...; } with at least the "
                "run's duration");
  CL_CALL(expect_group(P, g, "a group simulation = { dt = ...; t_stop = ...; ... }"));
  CL_CALL(check_keys(P, g, keys_sim, "the simulation section", NULL, 0));
  CL_CALL(q_member(P, g, "dt", CL_DIM_TIME, R_POS, 0, &sim->dt));
  CL_CALL(q_member(P, g, "t_stop", CL_DIM_TIME, R_POS, 1, &sim->t_stop));
  if (sim->t_stop < sim->dt) {
    char dt[32];
    fmt_num(sim->dt, dt, sizeof dt);
    char w[64];
    snprintf(w, sizeof w, "a time >= dt (%s ms)", dt);
    return fail_value(P, config_setting_get_member(g, "t_stop"), w, NULL);
  }
  if (!multiple_of(sim->t_stop, sim->dt))
    warn(P, config_setting_get_member(g, "t_stop"), NULL,
         "not a multiple of dt: the run takes %lld steps",
         (long long)nearbyint(sim->t_stop / sim->dt));
  CL_CALL(u_member(P, g, "seed", 0, UINT64_MAX, "an integer >= 0 (a string of digits beyond 2^31)",
                   0, &sim->seed));
  CL_CALL(q_member(P, g, "min_delay", CL_DIM_TIME, R_POS, 0, &sim->min_delay));
  CL_CALL(q_member(P, g, "max_delay", CL_DIM_TIME, R_POS, 0, &sim->max_delay));
  char dts[32], w[96];
  fmt_num(sim->dt, dts, sizeof dts);
  snprintf(w, sizeof w, "a time >= dt (%s ms)", dts);
  if (sim->min_delay > 0 && sim->min_delay < sim->dt * (1 - 1e-9))
    return fail_value(P, config_setting_get_member(g, "min_delay"), w, NULL);
  if (sim->max_delay > 0 && sim->max_delay < sim->dt * (1 - 1e-9))
    return fail_value(P, config_setting_get_member(g, "max_delay"), w, NULL);
  if (sim->min_delay > 0 && sim->max_delay > 0 &&
      cl_config_delay_to_steps(sim->max_delay, sim->dt) <
          cl_config_delay_to_steps(sim->min_delay, sim->dt))
    return fail_value(P, config_setting_get_member(g, "max_delay"), "a time >= min_delay", NULL);
  for (int k = 0; k < 2; k++) {
    const char *key = k ? "max_delay" : "min_delay";
    double v = k ? sim->max_delay : sim->min_delay;
    if (v > 0 && !multiple_of(v, sim->dt))
      warn(P, config_setting_get_member(g, key), NULL,
           "not a multiple of dt: rounded to %lld steps",
           (long long)cl_config_delay_to_steps(v, sim->dt));
  }
  const char *out = NULL;
  CL_CALL(string_member(P, g, "output", "a directory name (string)", 0, &out));
  if (out) {
    if (!out[0] || strlen(out) >= CL_PATH_MAX)
      return fail_value(P, config_setting_get_member(g, "output"),
                        "a non-empty directory name (string)", NULL);
    snprintf(sim->output, sizeof sim->output, "%s", out);
  }
  CL_CALL(
      q_member(P, g, "spike_flush_interval", CL_DIM_TIME, R_POS, 0, &sim->spike_flush_interval));
  CL_CALL(
      q_member(P, g, "report_flush_interval", CL_DIM_TIME, R_POS, 0, &sim->report_flush_interval));
  int mode = (int)sim->mode;
  CL_CALL(enum_member(P, g, "threshold_mode", mode_names, 0, &mode));
  sim->mode = (cl_threshold_mode)mode;
  int ck = (int)sim->checkpoint;
  CL_CALL(enum_member(P, g, "checkpoint", checkpoint_names, 0, &ck));
  sim->checkpoint = (cl_checkpoint_mode)ck;
  CL_CALL(
      q_member(P, g, "checkpoint_interval", CL_DIM_TIME, R_NONNEG, 0, &sim->checkpoint_interval));
  if (sim->checkpoint_interval > 0 && sim->checkpoint == CL_CHECKPOINT_NEVER)
    return fail_value(P, config_setting_get_member(g, "checkpoint_interval"),
                      "0 (none) with checkpoint = \"never\"", NULL);
  const char *init = NULL;
  CL_CALL(string_member(P, g, "initial_state", "a run directory, or its checkpoint.h5 (string)", 0,
                        &init));
  if (init) {
    if (!init[0] || strlen(init) >= CL_PATH_MAX)
      return fail_value(P, config_setting_get_member(g, "initial_state"),
                        "a run directory, or its checkpoint.h5 (non-empty string)", NULL);
    snprintf(sim->initial_state, sizeof sim->initial_state, "%s", init);
  }
  return CL_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* populations                                                                                */

static const char *const model_names[] = {"cond_alpha", "poisson_source", "spike_source", NULL};
static const char *const keys_cond_alpha[] = {
    "name",   "model", "size",           "record_spikes", "C_m",     "g_L",   "tau_m",
    "E_L",    "E_ex",  "E_in",           "V_th",          "V_reset", "t_ref", "tau_ex",
    "tau_in", "I_e",   "threshold_mode", "init",          NULL};
static const char *const keys_poisson_source[] = {"name", "model", "size", "record_spikes",
                                                  "rate", "start", "stop", NULL};
static const char *const keys_spike_source[] = {
    "name", "model", "size", "record_spikes", "indices", "times", "trains", "spikes", NULL};
static const keyset pop_keysets[] = {
    {"a cond_alpha population", keys_cond_alpha},
    {"a poisson_source population", keys_poisson_source},
    {"a spike_source population", keys_spike_source},
};

#define CL_MAX_POPULATION_SIZE (UINT64_C(1) << 40)

static const struct {
  const char *key;
  size_t off;
  cl_dim dim;
  int range;
} param_table[] = {
    {"C_m", offsetof(cl_neuron_params, C_m), CL_DIM_CAPACITANCE, R_POS},
    {"E_L", offsetof(cl_neuron_params, E_L), CL_DIM_VOLTAGE, R_ANY},
    {"E_ex", offsetof(cl_neuron_params, E_ex), CL_DIM_VOLTAGE, R_ANY},
    {"E_in", offsetof(cl_neuron_params, E_in), CL_DIM_VOLTAGE, R_ANY},
    {"V_th", offsetof(cl_neuron_params, V_th), CL_DIM_VOLTAGE, R_ANY},
    {"V_reset", offsetof(cl_neuron_params, V_reset), CL_DIM_VOLTAGE, R_ANY},
    {"t_ref", offsetof(cl_neuron_params, t_ref), CL_DIM_TIME, R_NONNEG},
    {"tau_ex", offsetof(cl_neuron_params, tau_ex), CL_DIM_TIME, R_POS},
    {"tau_in", offsetof(cl_neuron_params, tau_in), CL_DIM_TIME, R_POS},
    {"I_e", offsetof(cl_neuron_params, I_e), CL_DIM_CURRENT, R_ANY},
};

/* The setting to blame for a parameter: its own, or the population's when defaulted. */
static const config_setting_t *param_setting(const config_setting_t *e, const char *key,
                                             const char **member_key) {
  const config_setting_t *s = config_setting_get_member(e, key);
  if (!s && strcmp(key, "g_L") == 0)
    s = config_setting_get_member(e, "tau_m");
  *member_key = s ? NULL : key;
  return s ? s : e;
}

static int parse_cond_alpha(parser *P, config_setting_t *e, cl_population_config *pop) {
  const cl_simulation_config *sim = &P->cfg->sim;
  cl_neuron_params *p = &pop->params;
  cl_neuron_params_default(p);
  p->mode = sim->mode;
  for (size_t k = 0; k < sizeof param_table / sizeof param_table[0]; k++)
    CL_CALL(q_member(P, e, param_table[k].key, param_table[k].dim, param_table[k].range, 0,
                     (double *)((char *)p + param_table[k].off)));
  const config_setting_t *sg = config_setting_get_member(e, "g_L"),
                         *st = config_setting_get_member(e, "tau_m");
  if (sg && st)
    return fail(P, st, NULL, "give either g_L or tau_m (= C_m/g_L), not both");
  if (sg)
    CL_CALL(q_get(P, sg, CL_DIM_CONDUCTANCE, R_POS, &p->g_L));
  if (st) {
    double tau_m = 0;
    CL_CALL(q_get(P, st, CL_DIM_TIME, R_POS, &tau_m));
    p->g_L = p->C_m / tau_m;
  }
  int mode = (int)p->mode;
  CL_CALL(enum_member(P, e, "threshold_mode", mode_names, 0, &mode));
  p->mode = (cl_threshold_mode)mode;

  const char *bad = NULL, *mkey;
  char msg[512] = "";
  if (cl_neuron_params_check(p, sim->dt, &bad, msg, sizeof msg) != CL_OK) {
    if (bad && strcmp(bad, "dt") == 0) {
      const config_setting_t *sdt = config_lookup(&P->lc, "simulation.dt");
      return fail(P,
                  sdt ? sdt : config_setting_get_member(config_root_setting(&P->lc), "simulation"),
                  sdt ? NULL : "dt", "%s", msg);
    }
    const config_setting_t *s = param_setting(e, bad ? bad : "C_m", &mkey);
    return fail(P, s, mkey, "%s%s", msg, mkey ? " (the default)" : "");
  }
  char a[32], b[32];
  if (p->E_in > p->E_L) {
    fmt_num(p->E_in, a, sizeof a);
    fmt_num(p->E_L, b, sizeof b);
    const config_setting_t *s = param_setting(e, "E_in", &mkey);
    warn(P, s, mkey,
         "E_in (%s mV) is above E_L (%s mV): inhibitory inputs depolarise the neuron at rest", a,
         b);
  }
  if (p->t_ref < sim->dt) {
    fmt_num(p->t_ref, a, sizeof a);
    fmt_num(sim->dt, b, sizeof b);
    const config_setting_t *s = param_setting(e, "t_ref", &mkey);
    warn(P, s, mkey, "t_ref (%s ms) is below dt (%s ms)%s", a, b,
         p->mode == CL_THRESHOLD_GRID ? ": in grid mode it rounds to 0 steps" : "");
  }

  /* Initial values: V_m = E_L and the synaptic variables 0 unless given. */
  for (int v = 0; v < CL_NVARS; v++) {
    pop->init[v] = (cl_dist){CL_DIST_CONST, v == CL_VAR_V_M ? p->E_L : 0.0, 0, 0, 0};
    pop->init[v].lo = pop->init[v].hi = pop->init[v].a;
  }
  const config_setting_t *init = config_setting_get_member(e, "init");
  if (init) {
    CL_CALL(expect_group(P, init, "a group init = { V_m = ...; g_ex = ...; ... }"));
    CL_CALL(check_keys(P, init, (const char *const[]){"V_m", "g_ex", "x_ex", "g_in", "x_in", NULL},
                       "the initial values", NULL, 0));
    for (int v = 0; v < CL_NVARS; v++)
      CL_CALL(dist_member(P, init, cl_var_names[v],
                          v == CL_VAR_V_M ? CL_DIM_VOLTAGE : CL_DIM_CONDUCTANCE,
                          v == CL_VAR_V_M ? R_ANY : R_NONNEG, 0, &pop->init[v]));
  }
  return CL_OK;
}

static int parse_poisson_source(parser *P, config_setting_t *e, cl_population_config *pop) {
  CL_CALL(q_member(P, e, "rate", CL_DIM_FREQUENCY, R_NONNEG, 1, &pop->rate));
  CL_CALL(q_member(P, e, "start", CL_DIM_TIME, R_NONNEG, 0, &pop->start));
  CL_CALL(q_member(P, e, "stop", CL_DIM_TIME, R_POS, 0, &pop->stop));
  if (!(pop->stop > pop->start))
    return fail_value(P, config_setting_get_member(e, "stop"), "a time > start", NULL);
  return CL_OK;
}

typedef struct {
  uint64_t id;
  double t;
} id_time;

static int cmp_id_time(const void *a, const void *b) {
  const id_time *x = a, *y = b;
  if (x->id != y->id)
    return (x->id > y->id) - (x->id < y->id);
  return (x->t > y->t) - (x->t < y->t);
}

/* Spike times from trains = ( [t, ...], ... ) or from indices = [...]; times = [...]. */
static int parse_spike_source(parser *P, config_setting_t *e, cl_population_config *pop,
                              int size_given) {
  const config_setting_t *tr = config_setting_get_member(e, "trains"),
                         *ix = config_setting_get_member(e, "indices"),
                         *tm = config_setting_get_member(e, "times"),
                         *sp = config_setting_get_member(e, "spikes");
  int forms = (tr != NULL) + (ix || tm) + (sp != NULL);
  if (forms > 1)
    return fail(P, sp ? sp : tr, NULL,
                "give one of trains, spikes, or indices and times; not several");
  if (!tr && !sp && !(ix && tm))
    return fail(P, (ix || tm) ? (ix ? ix : tm) : e, (ix || tm) ? NULL : "trains",
                "missing: expected trains = ( [t, ...], ... ) (one array of times per source), "
                "spikes = ( (id, t), ... ), or indices = [...] and times = [...] of equal "
                "length");
  if (!size_given && !tr)
    return fail(P, e, "size", "missing: expected the number of sources (ids are < size)");
  id_time *spk = NULL;
  size_t n = 0;
  int st = CL_OK;
  if (tr) {
    if (!config_setting_is_list(tr) && !config_setting_is_array(tr))
      return fail_value(P, tr, "a list ( [t, ...], [t, ...] ) of spike-time arrays, one per source",
                        NULL);
    uint64_t ntr = (uint64_t)config_setting_length(tr);
    if (size_given && ntr != pop->size) {
      char w[96];
      snprintf(w, sizeof w, "one train per source (size = %llu)", (unsigned long long)pop->size);
      return fail_value(P, tr, w, NULL);
    }
    if (ntr == 0)
      return fail_value(P, tr, "at least one train", NULL);
    pop->size = ntr;
    for (uint64_t i = 0; i < ntr && st == CL_OK; i++) {
      const config_setting_t *ti = config_setting_get_elem(tr, (unsigned)i);
      size_t m = 0;
      double *t = NULL;
      if (config_setting_is_aggregate(ti)) {
        st = q_array(P, ti, CL_DIM_TIME, R_NONNEG, &m, &t);
      } else {
        t = cl_malloc(sizeof *t);
        st = t ? q_get(P, ti, CL_DIM_TIME, R_NONNEG, t) : CL_ERR_MEM;
        m = 1;
      }
      if (st == CL_OK) {
        id_time *q = cl_realloc(spk, (n + m) * sizeof *q);
        if (!q)
          st = CL_ERR_MEM;
        else {
          spk = q;
          for (size_t j = 0; j < m; j++)
            spk[n++] = (id_time){i, t[j]};
        }
      }
      free(t);
    }
  } else if (sp) {
    const char *pw = "a list ( (id, t), ... ) of spikes";
    if (!config_setting_is_list(sp) && !config_setting_is_array(sp))
      return fail_value(P, sp, pw, NULL);
    n = (size_t)config_setting_length(sp);
    spk = cl_malloc(n * sizeof *spk);
    CL_ALLOC_CHECK(spk);
    char w[96];
    snprintf(w, sizeof w, "a source id in [0, %llu]", (unsigned long long)pop->size - 1);
    for (size_t j = 0; j < n && st == CL_OK; j++) {
      const config_setting_t *pj = config_setting_get_elem(sp, (unsigned)j);
      if (!(config_setting_is_list(pj) || config_setting_is_array(pj)) ||
          config_setting_length(pj) != 2) {
        st = fail_value(P, pj, "a pair (id, t) of a source id and a spike time", NULL);
        break;
      }
      st = u_get(P, config_setting_get_elem(pj, 0), 0, pop->size - 1, w, &spk[j].id);
      if (st == CL_OK)
        st = q_get(P, config_setting_get_elem(pj, 1), CL_DIM_TIME, R_NONNEG, &spk[j].t);
    }
  } else {
    size_t ni = 0, nt = 0;
    double *t = NULL;
    CL_CALL(q_array(P, tm, CL_DIM_TIME, R_NONNEG, &nt, &t));
    if (!(config_setting_is_array(ix) || config_setting_is_list(ix))) {
      free(t);
      return fail_value(P, ix, "an array [...] of source ids", NULL);
    }
    ni = (size_t)config_setting_length(ix);
    if (ni != nt) {
      free(t);
      char w[96];
      snprintf(w, sizeof w, "as many indices as times (%zu)", nt);
      return fail_value(P, ix, w, NULL);
    }
    spk = cl_malloc(nt * sizeof *spk);
    if (!spk) {
      free(t);
      return CL_ERR_MEM;
    }
    char w[96];
    snprintf(w, sizeof w, "a source id in [0, %llu]", (unsigned long long)pop->size - 1);
    for (size_t j = 0; j < nt && st == CL_OK; j++) {
      uint64_t id = 0;
      st = u_get(P, config_setting_get_elem(ix, (unsigned)j), 0, pop->size - 1, w, &id);
      spk[j] = (id_time){id, t[j]};
    }
    n = nt;
    free(t);
  }
  if (st != CL_OK) {
    free(spk);
    return st;
  }
  qsort(spk, n, sizeof *spk, cmp_id_time);
  pop->spike_ptr = cl_calloc(pop->size + 1, sizeof *pop->spike_ptr);
  pop->spike_times = cl_malloc(n * sizeof *pop->spike_times);
  if (!pop->spike_ptr || !pop->spike_times) {
    free(spk);
    return CL_ERR_MEM;
  }
  for (size_t j = 0; j < n; j++) {
    pop->spike_ptr[spk[j].id + 1]++;
    pop->spike_times[j] = spk[j].t;
  }
  for (uint64_t i = 0; i < pop->size; i++)
    pop->spike_ptr[i + 1] += pop->spike_ptr[i];
  free(spk);
  return CL_OK;
}

static int parse_population(parser *P, config_setting_t *e, size_t i) {
  cl_config *cfg = P->cfg;
  cl_population_config *pop = &cfg->populations[i];
  pop->line = config_setting_source_line(e);
  pop->stop = INFINITY;
  const char *name = NULL;
  const char *name_what = "a name of letters, digits and _ (starting with a letter or _, at "
                          "most 63 characters)";
  CL_CALL(string_member(P, e, "name", name_what, 1, &name));
  const config_setting_t *sname = config_setting_get_member(e, "name");
  if (!valid_name(name, 0))
    return fail_value(P, sname, name_what, NULL);
  for (size_t j = 0; j < i; j++)
    if (strcmp(cfg->populations[j].name, name) == 0)
      return fail_value(P, sname, "a population name not used before", NULL);
  snprintf(pop->name, sizeof pop->name, "%s", name);
  int model = CL_MODEL_COND_ALPHA;
  CL_CALL(enum_member(P, e, "model", model_names, 0, &model));
  pop->model = (cl_model)model;
  char what[64];
  snprintf(what, sizeof what, "%s %s population", article(model_names[model]), model_names[model]);
  keyset others[2];
  size_t no = 0;
  for (int m = 0; m < 3; m++)
    if (m != model)
      others[no++] = pop_keysets[m];
  CL_CALL(check_keys(P, e, pop_keysets[model].keys, what, others, no));
  char size_what[96];
  snprintf(size_what, sizeof size_what, "a number of neurons in [1, %llu]",
           (unsigned long long)CL_MAX_POPULATION_SIZE);
  int size_given = config_setting_get_member(e, "size") != NULL;
  CL_CALL(u_member(P, e, "size", 1, CL_MAX_POPULATION_SIZE, size_what,
                   pop->model != CL_MODEL_SPIKE_SOURCE, &pop->size));
  /* record_spikes: true, false, or the neurons whose spikes are recorded */
  const config_setting_t *rs = config_setting_get_member(e, "record_spikes");
  if (rs && config_setting_type(rs) == CONFIG_TYPE_BOOL)
    pop->record_spikes = config_setting_get_bool(rs);
  else if (rs)
    pop->record_spikes = 1;
  CL_CALL(selection_get(P, rs && config_setting_type(rs) != CONFIG_TYPE_BOOL ? rs : NULL, pop->size,
                        "true, false, ", &pop->spike_sel));
  switch (pop->model) {
  case CL_MODEL_COND_ALPHA:
    return parse_cond_alpha(P, e, pop);
  case CL_MODEL_POISSON_SOURCE:
    return parse_poisson_source(P, e, pop);
  case CL_MODEL_SPIKE_SOURCE:
    return parse_spike_source(P, e, pop, size_given);
  }
  return CL_OK;
}

static int parse_populations(parser *P, config_setting_t *root) {
  cl_config *cfg = P->cfg;
  config_setting_t *l = config_setting_get_member(root, "populations");
  if (!l)
    return fail(P, root, "populations",
                "missing: expected a list populations = ( { name = ...; size = ...; }, ... )");
  CL_CALL(expect_list_of_groups(P, l, "populations"));
  size_t n = (size_t)config_setting_length(l);
  if (n == 0)
    return fail_value(P, l, "at least one population", NULL);
  cfg->populations = cl_calloc(n, sizeof *cfg->populations);
  CL_ALLOC_CHECK(cfg->populations);
  for (size_t i = 0; i < n; i++) {
    cfg->n_populations = i + 1; /* destroy frees what each parsed population holds */
    CL_CALL(parse_population(P, config_setting_get_elem(l, (unsigned)i), i));
    cfg->populations[i].first_gid = cfg->n_total;
    cfg->n_total += cfg->populations[i].size;
  }
  return CL_OK;
}

int cl_config_find_population(const cl_config *cfg, const char *name) {
  for (size_t i = 0; i < cfg->n_populations; i++)
    if (strcmp(cfg->populations[i].name, name) == 0)
      return (int)i;
  return -1;
}

/* A population reference: the name of a defined population (of a cond_alpha one when
 * need_neurons). */
/* Fails on s, whose value name is not the name of a population (projections 0) or of a
 * projection (1): "expected <what>", with the closest name there is as a suggestion. */
static int fail_unknown_name(parser *P, const config_setting_t *s, const char *name,
                             int projections, const char *what) {
  const cl_config *cfg = P->cfg;
  const size_t n_all = projections ? cfg->n_projections : cfg->n_populations;
  const char *cands[256];
  size_t n = 0;
  for (size_t i = 0; i < n_all && n < 255; i++)
    cands[n++] = projections ? cfg->projections[i].name : cfg->populations[i].name;
  cands[n] = NULL;
  const char *sug = suggest(name, cands);
  char why[128];
  snprintf(why, sizeof why, "did you mean \"%s\"?", sug ? sug : "");
  return fail_value(P, s, what, sug ? why : NULL);
}

static int population_ref(parser *P, const config_setting_t *g, const char *key, int need_neurons,
                          int *out) {
  const char *name = NULL;
  CL_CALL(string_member(P, g, key, "the name of a population", 1, &name));
  const config_setting_t *s = config_setting_get_member(g, key);
  int idx = cl_config_find_population(P->cfg, name);
  if (idx < 0)
    return fail_unknown_name(P, s, name, 0, "the name of a population defined in populations");
  if (need_neurons && P->cfg->populations[idx].model != CL_MODEL_COND_ALPHA) {
    char w[160];
    snprintf(w, sizeof w, "a population of neurons (\"%s\" is a %s, which cannot receive input)",
             name, model_names[P->cfg->populations[idx].model]);
    return fail_value(P, s, w, NULL);
  }
  *out = idx;
  return CL_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Input files of time-series stimuli                                                         */

static void resolve_input_path(const parser *P, const char *given, char *out, size_t len) {
  if (given[0] == '/' || P->dir[0] == '\0')
    snprintf(out, len, "%s", given);
  else
    snprintf(out, len, "%s/%s", P->dir, given);
}

static int parse_double_field(const char *s, double *v) {
  char *end;
  while (isspace((unsigned char)*s))
    s++;
  if (!*s)
    return 0;
  *v = strtod(s, &end);
  while (isspace((unsigned char)*end))
    end++;
  return *end == '\0' && isfinite(*v) &&
         (isdigit((unsigned char)s[0]) || s[0] == '-' || s[0] == '+' || s[0] == '.');
}

/* Reads one column of a CSV file (comma- or blank-separated; '#' lines are comments; an
 * optional first line of column names). col_name selects by name when non-NULL. */
static int read_csv(const char *path, long col_index, const char *col_name, double **vals,
                    size_t *n, char *why, size_t wl) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    snprintf(why, wl, "cannot open %s: %s", path, strerror(errno));
    return CL_ERR_USER;
  }
  size_t cap = 1024, cnt = 0;
  double *v = malloc(cap * sizeof *v);
  char *line = NULL;
  size_t lcap = 0;
  ssize_t got;
  long lineno = 0;
  int seen_data = 0, st = CL_OK;
  if (!v) {
    fclose(f);
    return CL_ERROR(CL_ERR_MEM, "out of memory reading %s", path);
  }
  while (st == CL_OK && (got = getline(&line, &lcap, f)) >= 0) {
    lineno++;
    char *p = line;
    while (got > 0 && (p[got - 1] == '\n' || p[got - 1] == '\r'))
      p[--got] = '\0';
    while (isspace((unsigned char)*p))
      p++;
    if (!*p || *p == '#')
      continue;
    const char *sep = strchr(p, ',') ? "," : " \t;";
    char *fields[256];
    int nf = 0;
    for (char *save = NULL, *tok = strtok_r(p, sep, &save); tok && nf < 256;
         tok = strtok_r(NULL, sep, &save))
      fields[nf++] = tok;
    if (!seen_data && col_name) {
      /* header line: find the named column */
      col_index = -1;
      for (int i = 0; i < nf; i++) {
        char *fld = fields[i];
        while (isspace((unsigned char)*fld) || *fld == '"')
          fld++;
        size_t lf = strlen(fld);
        while (lf > 0 && (isspace((unsigned char)fld[lf - 1]) || fld[lf - 1] == '"'))
          fld[--lf] = '\0';
        if (strcmp(fld, col_name) == 0)
          col_index = i;
      }
      if (col_index < 0) {
        snprintf(why, wl, "%s:%ld: no column named \"%s\" in the first line", path, lineno,
                 col_name);
        st = CL_ERR_USER;
      }
      seen_data = 1;
      continue;
    }
    if (col_index >= nf) {
      snprintf(why, wl, "%s:%ld: no column %ld (the line has %d)", path, lineno, col_index, nf);
      st = CL_ERR_USER;
      break;
    }
    double x;
    if (!parse_double_field(fields[col_index], &x)) {
      if (!seen_data) { /* a header line when selecting by index */
        seen_data = 1;
        continue;
      }
      snprintf(why, wl, "%s:%ld: \"%.40s\" is not a number", path, lineno, fields[col_index]);
      st = CL_ERR_USER;
      break;
    }
    seen_data = 1;
    if (cnt == cap) {
      double *q = realloc(v, 2 * cap * sizeof *q);
      if (!q) {
        st = CL_ERROR(CL_ERR_MEM, "out of memory reading %s", path);
        break;
      }
      v = q;
      cap *= 2;
    }
    v[cnt++] = x;
  }
  free(line);
  fclose(f);
  if (st == CL_OK && cnt == 0) {
    snprintf(why, wl, "%s holds no values", path);
    st = CL_ERR_USER;
  }
  if (st != CL_OK) {
    free(v);
    return st;
  }
  *vals = v;
  *n = cnt;
  return CL_OK;
}

/* Reads a 1-D numeric dataset (serial HDF5 API, default property lists) and its optional
 * attribute dt (ms). */
static int read_h5(const char *path, const char *dataset, double **vals, size_t *n, double *dt_attr,
                   char *why, size_t wl) {
  FILE *probe = fopen(path, "rb");
  if (!probe) {
    snprintf(why, wl, "cannot open %s: %s", path, strerror(errno));
    return CL_ERR_USER;
  }
  fclose(probe);
  H5E_auto2_t efunc;
  void *edata;
  H5Eget_auto2(H5E_DEFAULT, &efunc, &edata);
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  int st = CL_ERR_USER;
  double *v = NULL;
  hid_t f = -1, d = -1, sp = -1, ty = -1;
  *dt_attr = NAN;
  f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0) {
    snprintf(why, wl, "%s is not an HDF5 file", path);
    goto done;
  }
  d = H5Dopen2(f, dataset, H5P_DEFAULT);
  if (d < 0) {
    snprintf(why, wl, "%s has no dataset \"%s\"", path, dataset);
    goto done;
  }
  sp = H5Dget_space(d);
  ty = H5Dget_type(d);
  int nd = H5Sget_simple_extent_ndims(sp);
  hsize_t dims[2] = {0, 0};
  if (nd < 1 || nd > 2 || H5Sget_simple_extent_dims(sp, dims, NULL) < 0 ||
      (nd == 2 && dims[0] != 1 && dims[1] != 1)) {
    snprintf(why, wl, "%s:%s is not a 1-D dataset", path, dataset);
    goto done;
  }
  H5T_class_t cls = H5Tget_class(ty);
  if (cls != H5T_INTEGER && cls != H5T_FLOAT) {
    snprintf(why, wl, "%s:%s is not numeric", path, dataset);
    goto done;
  }
  size_t cnt = (size_t)H5Sget_simple_extent_npoints(sp);
  if (cnt == 0) {
    snprintf(why, wl, "%s:%s is empty", path, dataset);
    goto done;
  }
  v = malloc(cnt * sizeof *v);
  if (!v) {
    st = CL_ERROR(CL_ERR_MEM, "out of memory reading %s", path);
    goto done;
  }
  if (H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0) {
    snprintf(why, wl, "cannot read %s:%s", path, dataset);
    goto done;
  }
  for (size_t i = 0; i < cnt; i++) {
    if (!isfinite(v[i])) {
      snprintf(why, wl, "%s:%s[%zu] is not finite", path, dataset, i);
      goto done;
    }
  }
  if (H5Aexists(d, "dt") > 0) {
    hid_t a = H5Aopen(d, "dt", H5P_DEFAULT);
    double x = NAN;
    if (a >= 0 && H5Aread(a, H5T_NATIVE_DOUBLE, &x) >= 0)
      *dt_attr = x;
    if (a >= 0)
      H5Aclose(a);
  }
  *vals = v;
  *n = cnt;
  v = NULL;
  st = CL_OK;
done:
  free(v);
  if (ty >= 0)
    H5Tclose(ty);
  if (sp >= 0)
    H5Sclose(sp);
  if (d >= 0)
    H5Dclose(d);
  if (f >= 0)
    H5Fclose(f);
  H5Eset_auto2(H5E_DEFAULT, efunc, edata);
  return st;
}

/* ------------------------------------------------------------------------------------------ */
/* stimuli                                                                                    */

static const char *const stim_types[] = {"dc",      "sinusoidal",      "piecewise", "timeseries",
                                         "poisson", "spike_generator", NULL};
static const char *const receptor_names[] = {"excitatory", "inhibitory", NULL};
static const char *const keys_dc[] = {"name",      "type",  "target", "neurons",
                                      "amplitude", "start", "stop",   NULL};
static const char *const keys_sine[] = {"name",      "type",   "target",    "neurons",
                                        "amplitude", "offset", "frequency", "phase",
                                        "start",     "stop",   NULL};
static const char *const keys_piecewise[] = {"name",  "type",       "target", "neurons",
                                             "times", "amplitudes", NULL};
static const char *const keys_timeseries[] = {"name",    "type",   "target", "neurons", "file",
                                              "dataset", "column", "values", "dt",      "unit",
                                              "start",   "stop",   NULL};
static const char *const keys_poisson_stim[] = {"name",   "type",     "target", "neurons", "rate",
                                                "weight", "receptor", "start",  "stop",    NULL};
static const char *const keys_spikegen[] = {"name",  "type",   "target",   "neurons",
                                            "times", "weight", "receptor", NULL};
static const char *const *const stim_keys[] = {keys_dc,         keys_sine,         keys_piecewise,
                                               keys_timeseries, keys_poisson_stim, keys_spikegen};

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static int parse_timeseries(parser *P, config_setting_t *e, cl_stimulus_config *st) {
  const config_setting_t *sfile = config_setting_get_member(e, "file"),
                         *svals = config_setting_get_member(e, "values"),
                         *sdset = config_setting_get_member(e, "dataset"),
                         *scol = config_setting_get_member(e, "column"),
                         *sunit = config_setting_get_member(e, "unit");
  if (!sfile && !svals)
    return fail(P, e, "file", "missing: expected a CSV or HDF5 file (or inline values = [...])");
  double factor = 1.0;
  if (sunit) {
    const char *u = NULL;
    cl_dim dim;
    CL_CALL(string_get(P, sunit, "a current unit (\"pA\", \"nA\", ...)", &u));
    if (!cl_units_find(u, &dim, &factor) || dim != CL_DIM_CURRENT)
      return fail_value(P, sunit, "a current unit (\"pA\", \"nA\", ...)", NULL);
  }
  double dt_attr = NAN;
  if (sfile) {
    const char *f = NULL;
    CL_CALL(string_get(P, sfile, "a file name (string)", &f));
    if (!f[0] || strlen(f) >= CL_PATH_MAX)
      return fail_value(P, sfile, "a file name (string)", NULL);
    snprintf(st->path, sizeof st->path, "%s", f);
  }
  if (svals) {
    /* Inline values (the resolved text writes those read from the file here, in pA, with the
     * file name kept for the record). */
    CL_CALL(q_array(P, svals, CL_DIM_NONE, R_ANY, &st->n_points, &st->values));
    if (st->n_points == 0)
      return fail_value(P, svals, "at least one value", NULL);
  } else {
    char full[2 * CL_PATH_MAX + 2], why[2 * CL_PATH_MAX + 128] = "";
    resolve_input_path(P, st->path, full, sizeof full);
    size_t len = strlen(full);
    int is_h5 = (len > 3 && strcmp(full + len - 3, ".h5") == 0) ||
                (len > 5 && strcmp(full + len - 5, ".hdf5") == 0);
    int rc;
    if (is_h5) {
      const char *dset = NULL;
      if (scol)
        return fail(P, scol, NULL, "column is for CSV files; HDF5 files take dataset");
      CL_CALL(
          string_member(P, e, "dataset", "the path of a dataset in the file (\"/I\")", 1, &dset));
      rc = read_h5(full, dset, &st->values, &st->n_points, &dt_attr, why, sizeof why);
    } else {
      if (sdset)
        return fail(P, sdset, NULL,
                    "dataset is for HDF5 files (.h5, .hdf5); CSV files take column");
      long ci = 0;
      const char *cname = NULL;
      if (scol && config_setting_type(scol) == CONFIG_TYPE_STRING) {
        cname = config_setting_get_string(scol);
      } else if (scol) {
        uint64_t c = 0;
        CL_CALL(u_get(P, scol, 0, 255, "a column index in [0, 255] or a column name", &c));
        ci = (long)c;
      }
      rc = read_csv(full, ci, cname, &st->values, &st->n_points, why, sizeof why);
    }
    if (rc == CL_ERR_MEM)
      return rc;
    if (rc != CL_OK)
      return fail_value(P, sfile,
                        is_h5 ? "an HDF5 file with a 1-D numeric dataset"
                              : "a CSV file with one number per line (in one column)",
                        why);
  }
  for (size_t i = 0; i < st->n_points; i++)
    st->values[i] *= factor;
  if (config_setting_get_member(e, "dt"))
    CL_CALL(q_member(P, e, "dt", CL_DIM_TIME, R_POS, 1, &st->series_dt));
  else if (isfinite(dt_attr) && dt_attr > 0)
    st->series_dt = dt_attr;
  else
    return fail(P, e, "dt", "missing: expected the sampling interval of the values (a time > 0)");
  if (st->series_dt < P->cfg->sim.dt * (1 - 1e-9))
    warn(P, config_setting_get_member(e, "dt") ? config_setting_get_member(e, "dt") : e,
         config_setting_get_member(e, "dt") ? NULL : "dt",
         "samples are closer than the time step: the neuron sees only those at t, t + dt/2 "
         "and t + dt of each step");
  return CL_OK;
}

static int parse_stimulus(parser *P, config_setting_t *e, size_t i) {
  cl_config *cfg = P->cfg;
  cl_stimulus_config *st = &cfg->stimuli[i];
  st->line = config_setting_source_line(e);
  st->stop = INFINITY;
  int type = 0;
  CL_CALL(enum_member(P, e, "type", stim_types, 1, &type));
  st->kind = (cl_stim_kind)type;
  char what[64];
  snprintf(what, sizeof what, "%s %s stimulus", article(stim_types[type]), stim_types[type]);
  keyset others[5];
  char other_what[6][64];
  size_t no = 0;
  for (int t = 0; t < 6; t++) {
    if (t == type)
      continue;
    snprintf(other_what[t], sizeof other_what[t], "%s stimuli", stim_types[t]);
    others[no++] = (keyset){other_what[t], stim_keys[t]};
  }
  CL_CALL(check_keys(P, e, stim_keys[type], what, others, no));
  CL_CALL(population_ref(P, e, "target", 1, &st->target));
  const cl_population_config *tgt = &cfg->populations[st->target];
  const char *name = NULL;
  CL_CALL(string_member(P, e, "name", "a name (letters, digits, _, - and >)", 0, &name));
  if (name && !valid_name(name, 1))
    return fail_value(P, config_setting_get_member(e, "name"),
                      "a name of letters, digits, _, - and > starting with a letter or _", NULL);
  if (name)
    snprintf(st->name, sizeof st->name, "%s", name);
  else
    snprintf(st->name, sizeof st->name, "%.15s->%.45s", stim_types[type], tgt->name);
  CL_CALL(selection_member(P, e, tgt->size, &st->sel));
  if (in_list("start", stim_keys[type])) {
    CL_CALL(q_member(P, e, "start", CL_DIM_TIME, R_NONNEG, 0, &st->start));
    CL_CALL(q_member(P, e, "stop", CL_DIM_TIME, R_POS, 0, &st->stop));
    if (!(st->stop > st->start))
      return fail_value(P, config_setting_get_member(e, "stop"), "a time > start", NULL);
  }
  switch (st->kind) {
  case CL_STIM_DC:
    CL_CALL(q_member(P, e, "amplitude", CL_DIM_CURRENT, R_ANY, 1, &st->amplitude));
    break;
  case CL_STIM_SINE: {
    CL_CALL(q_member(P, e, "amplitude", CL_DIM_CURRENT, R_ANY, 1, &st->amplitude));
    CL_CALL(q_member(P, e, "offset", CL_DIM_CURRENT, R_ANY, 0, &st->offset));
    CL_CALL(q_member(P, e, "frequency", CL_DIM_FREQUENCY, R_NONNEG, 1, &st->frequency));
    CL_CALL(q_member(P, e, "phase", CL_DIM_ANGLE, R_ANY, 0, &st->phase));
    double nyquist = 1000.0 / (2.0 * cfg->sim.dt);
    if (st->frequency > 0.25 * nyquist) {
      char f[32], ny[32];
      fmt_num(st->frequency, f, sizeof f);
      fmt_num(nyquist, ny, sizeof ny);
      warn(P, config_setting_get_member(e, "frequency"), NULL,
           "%s Hz is close to or above the Nyquist frequency of the time step (%s Hz): the "
           "current is poorly resolved",
           f, ny);
    }
    break;
  }
  case CL_STIM_PIECEWISE: {
    const config_setting_t *stimes = config_setting_get_member(e, "times"),
                           *samps = config_setting_get_member(e, "amplitudes");
    if (!stimes)
      return fail(P, e, "times",
                  "missing: expected an array of times at which the current "
                  "changes");
    if (!samps)
      return fail(P, e, "amplitudes", "missing: expected an array of currents, one per time");
    CL_CALL(q_array(P, stimes, CL_DIM_TIME, R_NONNEG, &st->n_points, &st->times));
    size_t na = 0;
    CL_CALL(q_array(P, samps, CL_DIM_CURRENT, R_ANY, &na, &st->values));
    if (st->n_points == 0)
      return fail_value(P, stimes, "at least one time", NULL);
    if (na != st->n_points) {
      char w[96];
      snprintf(w, sizeof w, "one amplitude per time (%zu)", st->n_points);
      return fail_value(P, samps, w, NULL);
    }
    for (size_t k = 1; k < st->n_points; k++)
      if (!(st->times[k] > st->times[k - 1]))
        return fail_value(P, config_setting_get_elem(stimes, (unsigned)k),
                          "times in increasing order", NULL);
    break;
  }
  case CL_STIM_TIMESERIES:
    CL_CALL(parse_timeseries(P, e, st));
    break;
  case CL_STIM_POISSON:
  case CL_STIM_SPIKES: {
    int rec = 0;
    if (st->kind == CL_STIM_POISSON)
      CL_CALL(q_member(P, e, "rate", CL_DIM_FREQUENCY, R_NONNEG, 1, &st->rate));
    else {
      const config_setting_t *stimes = config_setting_get_member(e, "times");
      if (!stimes)
        return fail(P, e, "times", "missing: expected an array of spike times");
      CL_CALL(q_array(P, stimes, CL_DIM_TIME, R_NONNEG, &st->n_points, &st->times));
      qsort(st->times, st->n_points, sizeof *st->times, cmp_double);
    }
    const config_setting_t *sw = config_setting_get_member(e, "weight");
    double w = 0;
    if (sw && !config_setting_is_aggregate(sw) &&
        q_get(P, sw, CL_DIM_CONDUCTANCE, R_ANY, &w) == CL_OK && w <= 0)
      return fail_value(P, sw, "a conductance > 0 (nS)",
                        "weights are peak conductances; receptor = \"inhibitory\" inhibits");
    CL_CALL(q_member(P, e, "weight", CL_DIM_CONDUCTANCE, R_POS, 1, &st->weight));
    CL_CALL(enum_member(P, e, "receptor", receptor_names, 1, &rec));
    st->receptor = (cl_receptor)rec;
    break;
  }
  }
  return CL_OK;
}

static int parse_stimuli(parser *P, config_setting_t *root) {
  config_setting_t *l = config_setting_get_member(root, "stimuli");
  if (!l)
    return CL_OK;
  CL_CALL(expect_list_of_groups(P, l, "stimuli"));
  size_t n = (size_t)config_setting_length(l);
  P->cfg->stimuli = cl_calloc(n, sizeof *P->cfg->stimuli);
  CL_ALLOC_CHECK(P->cfg->stimuli);
  for (size_t i = 0; i < n; i++) {
    P->cfg->n_stimuli = i + 1;
    CL_CALL(parse_stimulus(P, config_setting_get_elem(l, (unsigned)i), i));
  }
  return CL_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* projections                                                                                */

static const char *const rule_names[] = {"pairwise_bernoulli",
                                         "fixed_indegree",
                                         "fixed_outdegree",
                                         "fixed_total_number",
                                         "one_to_one",
                                         "all_to_all",
                                         NULL};
#define PROJ_COMMON                                                                                \
  "name", "source", "target", "receptor", "rule", "allow_autapses", "allow_multapses", "weight",   \
      "delay", "record_edges"
static const char *const keys_proj_p[] = {PROJ_COMMON, "p", NULL};
static const char *const keys_proj_k[] = {PROJ_COMMON, "k", NULL};
static const char *const keys_proj_n[] = {PROJ_COMMON, "n", NULL};
static const char *const keys_proj[] = {PROJ_COMMON, NULL};
static const char *const only_p[] = {"p", NULL};
static const char *const only_k[] = {"k", NULL};
static const char *const only_n[] = {"n", NULL};

const char *cl_rule_name(cl_rule rule) {
  return rule_names[rule];
}

const char *cl_receptor_name(cl_receptor receptor) {
  return receptor_names[receptor];
}

#define CL_DEFAULT_DELAY 1.0 /* ms */

int64_t cl_config_delay_to_steps(double delay, double dt) {
  double x = delay / dt;
  double r = floor(x + 0.5 + 1e-9 * fabs(x)); /* halves (up to rounding noise) round up */
  return r < 1 ? 1 : (int64_t)r;
}

static int parse_projection(parser *P, config_setting_t *e, size_t i) {
  cl_config *cfg = P->cfg;
  cl_projection_config *pr = &cfg->projections[i];
  pr->line = config_setting_source_line(e);
  pr->allow_autapses = 1;
  pr->allow_multapses = 1;
  int rule = 0;
  CL_CALL(enum_member(P, e, "rule", rule_names, 1, &rule));
  pr->rule = (cl_rule)rule;
  const char *const *keys = rule == CL_RULE_PAIRWISE_BERNOULLI ? keys_proj_p
                            : (rule == CL_RULE_FIXED_INDEGREE || rule == CL_RULE_FIXED_OUTDEGREE)
                                ? keys_proj_k
                            : rule == CL_RULE_FIXED_TOTAL_NUMBER ? keys_proj_n
                                                                 : keys_proj;
  const keyset others[] = {{"rule pairwise_bernoulli", only_p},
                           {"rules fixed_indegree and fixed_outdegree", only_k},
                           {"rule fixed_total_number", only_n}};
  char what[64];
  snprintf(what, sizeof what, "%s %s projection", article(rule_names[rule]), rule_names[rule]);
  CL_CALL(check_keys(P, e, keys, what, others, 3));
  CL_CALL(population_ref(P, e, "source", 0, &pr->source));
  CL_CALL(population_ref(P, e, "target", 1, &pr->target));
  const cl_population_config *src = &cfg->populations[pr->source],
                             *tgt = &cfg->populations[pr->target];
  const char *name = NULL;
  CL_CALL(string_member(P, e, "name", "a name (letters, digits, _, - and >)", 0, &name));
  if (name && !valid_name(name, 1))
    return fail_value(P, config_setting_get_member(e, "name"),
                      "a name of letters, digits, _, - and > starting with a letter or _", NULL);
  if (name)
    snprintf(pr->name, sizeof pr->name, "%s", name);
  else
    snprintf(pr->name, sizeof pr->name, "%.30s->%.30s", src->name, tgt->name);
  int rec = 0;
  CL_CALL(enum_member(P, e, "receptor", receptor_names, 1, &rec));
  pr->receptor = (cl_receptor)rec;
  CL_CALL(bool_member(P, e, "allow_autapses", &pr->allow_autapses));
  CL_CALL(bool_member(P, e, "allow_multapses", &pr->allow_multapses));
  CL_CALL(bool_member(P, e, "record_edges", &pr->record_edges));

  int same = pr->source == pr->target, noaut = same && !pr->allow_autapses;
  uint64_t ns = src->size, nt = tgt->size;
  uint64_t ns_eff = noaut ? ns - 1 : ns, nt_eff = noaut ? nt - 1 : nt;
  char w[256];
  switch (pr->rule) {
  case CL_RULE_PAIRWISE_BERNOULLI:
    CL_CALL(q_member(P, e, "p", CL_DIM_NONE, R_PROB, 1, &pr->p));
    break;
  case CL_RULE_FIXED_INDEGREE:
  case CL_RULE_FIXED_OUTDEGREE: {
    int in = pr->rule == CL_RULE_FIXED_INDEGREE;
    uint64_t pool = in ? ns_eff : nt_eff;
    CL_CALL(
        u_member(P, e, "k", 0, CL_MAX_POPULATION_SIZE,
                 in ? "a number of sources per target >= 0" : "a number of targets per source >= 0",
                 1, &pr->k));
    const config_setting_t *sk = config_setting_get_member(e, "k");
    if (!pr->allow_multapses && pr->k > pool) {
      snprintf(w, sizeof w, "at most %llu (the %s population's size%s) without multapses",
               (unsigned long long)pool, in ? "source" : "target",
               noaut ? " less the autapse" : "");
      return fail_value(P, sk, w, "set allow_multapses = true to draw with repetition");
    }
    if (pr->k > 0 && pool == 0)
      return fail_value(P, sk, "0: without autapses a population of one neuron has no partner",
                        NULL);
    break;
  }
  case CL_RULE_FIXED_TOTAL_NUMBER: {
    CL_CALL(u_member(P, e, "n", 0, UINT64_C(1) << 50, "a number of synapses >= 0", 1, &pr->n));
    double pairs = (double)ns * (double)nt - (noaut ? (double)ns : 0.0);
    const config_setting_t *sn = config_setting_get_member(e, "n");
    if (!pr->allow_multapses)
      return fail_value(P, config_setting_get_member(e, "allow_multapses"),
                        "true: fixed_total_number draws its pairs with repetition (as NEST does)",
                        "use pairwise_bernoulli or fixed_indegree for distinct pairs");
    if (pr->n > 0 && pairs <= 0)
      return fail_value(P, sn, "0: without autapses a population of one neuron has no partner",
                        NULL);
    break;
  }
  case CL_RULE_ONE_TO_ONE:
    if (ns != nt) {
      snprintf(w, sizeof w, "a population of the source's size (%llu) for one_to_one",
               (unsigned long long)ns);
      return fail_value(P, config_setting_get_member(e, "target"), w, NULL);
    }
    if (noaut)
      return fail_value(P, config_setting_get_member(e, "allow_autapses"),
                        "true: one_to_one within a population only makes autapses", NULL);
    break;
  case CL_RULE_ALL_TO_ALL:
    break;
  }

  const config_setting_t *sw = config_setting_get_member(e, "weight");
  double wv = 0;
  if (sw && !config_setting_is_aggregate(sw) &&
      q_get(P, sw, CL_DIM_CONDUCTANCE, R_ANY, &wv) == CL_OK && wv <= 0)
    return fail_value(P, sw, "a conductance > 0 (nS)",
                      "weights are peak conductances; receptor = \"inhibitory\" inhibits");
  CL_CALL(dist_member(P, e, "weight", CL_DIM_CONDUCTANCE, R_POS, 1, &pr->weight));
  pr->delay = (cl_dist){CL_DIST_CONST, CL_DEFAULT_DELAY, 0, CL_DEFAULT_DELAY, CL_DEFAULT_DELAY};
  CL_CALL(dist_member(P, e, "delay", CL_DIM_TIME, R_POS, 0, &pr->delay));
  const config_setting_t *sd = config_setting_get_member(e, "delay");
  if (pr->delay.kind == CL_DIST_LOGNORMAL && cfg->sim.min_delay > 0)
    pr->delay.lo = cfg->sim.min_delay; /* shorter draws are clamped to it */
  if (!isfinite(pr->delay.hi)) {
    if (cfg->sim.max_delay > 0)
      pr->delay.hi = cfg->sim.max_delay; /* longer draws are clamped to it */
    else
      return fail(P, sd, NULL,
                  "a delay distribution without an upper bound: expected max (normal) or "
                  "simulation.max_delay, since delays are stored in steps up to the longest one");
  }
  double dt = cfg->sim.dt;
  char a[32], b[32];
  if (pr->delay.kind == CL_DIST_CONST) {
    fmt_num(pr->delay.a, a, sizeof a);
    fmt_num(dt * (double)cl_config_delay_to_steps(pr->delay.a, dt), b, sizeof b);
    if (pr->delay.a < dt * (1 - 1e-9))
      warn(P, sd ? sd : e, sd ? NULL : "delay", "%s ms is below dt: rounded up to one step (%s ms)",
           a, b);
    else if (!multiple_of(pr->delay.a, dt))
      warn(P, sd ? sd : e, sd ? NULL : "delay", "%s ms is not a multiple of dt: rounded to %s ms",
           a, b);
  } else if (pr->delay.lo < 0.5 * dt) {
    fmt_num(dt, b, sizeof b);
    warn(P, sd, NULL, "delays below dt/2 can be drawn: they are rounded up to one step (%s ms)", b);
  }
  return CL_OK;
}

static int parse_projections(parser *P, config_setting_t *root) {
  config_setting_t *l = config_setting_get_member(root, "projections");
  if (!l)
    return CL_OK;
  CL_CALL(expect_list_of_groups(P, l, "projections"));
  size_t n = (size_t)config_setting_length(l);
  P->cfg->projections = cl_calloc(n, sizeof *P->cfg->projections);
  P->proj_settings = cl_calloc(n, sizeof *P->proj_settings);
  if (!P->cfg->projections || !P->proj_settings)
    return CL_ERR_MEM;
  for (size_t i = 0; i < n; i++) {
    P->cfg->n_projections = i + 1;
    P->proj_settings[i] = config_setting_get_elem(l, (unsigned)i);
    CL_CALL(parse_projection(P, P->proj_settings[i], i));
  }
  return CL_OK;
}

/* Longest delay a synapse can store, in steps (16-bit delays of the synapse store). */
#define CL_MAX_DELAY_STEPS 65535

/* simulation.min_delay / max_delay, when given, bound every projection's delays; no delay may
 * exceed CL_MAX_DELAY_STEPS. */
static int check_delay_bounds(parser *P) {
  const cl_config *cfg = P->cfg;
  double dt = cfg->sim.dt;
  const config_setting_t *sim = config_lookup(&P->lc, "simulation");
  char lim[64];
  snprintf(lim, sizeof lim, "at most %d steps of dt (%.6g ms)", CL_MAX_DELAY_STEPS,
           CL_MAX_DELAY_STEPS * dt);
  if (cfg->sim.max_delay > 0 &&
      cl_config_delay_to_steps(cfg->sim.max_delay, dt) > CL_MAX_DELAY_STEPS)
    return fail_value(P, config_setting_get_member(sim, "max_delay"), lim, NULL);
  for (size_t i = 0; i < cfg->n_projections; i++)
    if (cl_config_delay_to_steps(cfg->projections[i].delay.hi, dt) > CL_MAX_DELAY_STEPS) {
      const config_setting_t *sd = config_setting_get_member(P->proj_settings[i], "delay");
      return sd ? fail_value(P, sd, lim, NULL)
                : fail(P, P->proj_settings[i], "delay", "the default delay of 1 ms is %s", lim);
    }
  for (size_t i = 0; i < cfg->n_projections; i++) {
    const cl_projection_config *pr = &cfg->projections[i];
    int64_t lo = cl_config_delay_to_steps(pr->delay.lo, dt),
            hi = cl_config_delay_to_steps(pr->delay.hi, dt);
    char path[256], d[32], w[400];
    key_path(P->proj_settings[i], "delay", path, sizeof path);
    if (cfg->sim.min_delay > 0 && cl_config_delay_to_steps(cfg->sim.min_delay, dt) > lo) {
      fmt_num((double)lo * dt, d, sizeof d);
      snprintf(w, sizeof w, "a time <= every projection's delay (%s can be %s ms)", path, d);
      return fail_value(P, config_setting_get_member(sim, "min_delay"), w, NULL);
    }
    if (cfg->sim.max_delay > 0 && cl_config_delay_to_steps(cfg->sim.max_delay, dt) < hi) {
      fmt_num((double)hi * dt, d, sizeof d);
      snprintf(w, sizeof w, "a time >= every projection's delay (%s can be %s ms)", path, d);
      return fail_value(P, config_setting_get_member(sim, "max_delay"), w, NULL);
    }
  }
  return CL_OK;
}

void cl_config_delay_steps(const cl_config *cfg, int64_t *d_min, int64_t *d_max) {
  double dt = cfg->sim.dt;
  int64_t lo = INT64_MAX, hi = 0;
  for (size_t i = 0; i < cfg->n_projections; i++) {
    int64_t a = cl_config_delay_to_steps(cfg->projections[i].delay.lo, dt),
            b = cl_config_delay_to_steps(cfg->projections[i].delay.hi, dt);
    lo = a < lo ? a : lo;
    hi = b > hi ? b : hi;
  }
  if (cfg->sim.min_delay > 0)
    lo = cl_config_delay_to_steps(cfg->sim.min_delay, dt);
  if (cfg->sim.max_delay > 0)
    hi = cl_config_delay_to_steps(cfg->sim.max_delay, dt);
  if (cfg->n_projections == 0) {
    lo = cfg->sim.min_delay > 0 ? lo : cl_config_delay_to_steps(1.0, dt);
    hi = cfg->sim.max_delay > 0 ? hi : lo;
    if (hi < lo && cfg->sim.min_delay <= 0)
      lo = hi;
  }
  *d_min = lo;
  *d_max = hi > lo ? hi : lo;
}

/* ------------------------------------------------------------------------------------------ */
/* recording                                                                                  */

static const char *const keys_recording[] = {"spikes", "edges", "reports", NULL};
static const char *const keys_report[] = {"name",    "population", "variables",
                                          "neurons", "interval",   NULL};

static int spike_item(parser *P, config_setting_t *s) {
  const char *what = "\"all\" or the name of a population";
  const char *name = NULL;
  CL_CALL(string_get(P, s, what, &name));
  if (strcmp(name, "all") == 0) {
    for (size_t i = 0; i < P->cfg->n_populations; i++)
      P->cfg->populations[i].record_spikes = 1;
    return CL_OK;
  }
  int idx = cl_config_find_population(P->cfg, name);
  if (idx < 0)
    return fail_unknown_name(P, s, name, 0, "the name of a population defined in populations");
  P->cfg->populations[idx].record_spikes = 1;
  return CL_OK;
}

static int edges_item(parser *P, config_setting_t *s) {
  const char *what = "\"all\" or the name of a projection";
  const char *name = NULL;
  CL_CALL(string_get(P, s, what, &name));
  cl_config *cfg = P->cfg;
  size_t found = 0;
  for (size_t i = 0; i < cfg->n_projections; i++)
    if (strcmp(name, "all") == 0 || strcmp(cfg->projections[i].name, name) == 0) {
      cfg->projections[i].record_edges = 1;
      found++;
    }
  if (found > 0 || strcmp(name, "all") == 0)
    return CL_OK;
  return fail_unknown_name(P, s, name, 1,
                           "the name of a projection (its name, or \"<source>-><target>\")");
}

/* The projections whose edges are written name their edge populations in edges.h5: their
 * names must differ. */
static int check_edge_names(parser *P) {
  const cl_config *cfg = P->cfg;
  for (size_t i = 0; i < cfg->n_projections; i++) {
    const cl_projection_config *pi = &cfg->projections[i];
    for (size_t j = 0; j < i && pi->record_edges; j++)
      if (cfg->projections[j].record_edges && strcmp(cfg->projections[j].name, pi->name) == 0) {
        const config_setting_t *e = P->proj_settings[i], *sn = config_setting_get_member(e, "name");
        return sn ? fail_value(P, sn, "a projection name not used before",
                               "the edges of both are written, as edge populations named by "
                               "their projections")
                  : fail(P, e, "name",
                         "missing: two projections named %s have their edges written; name "
                         "them apart",
                         pi->name);
      }
  }
  return CL_OK;
}

static int parse_report(parser *P, config_setting_t *e, size_t i) {
  cl_config *cfg = P->cfg;
  cl_report_config *r = &cfg->reports[i];
  r->line = config_setting_source_line(e);
  CL_CALL(check_keys(P, e, keys_report, "a state report", NULL, 0));
  CL_CALL(population_ref(P, e, "population", 1, &r->population));
  const cl_population_config *pop = &cfg->populations[r->population];
  const char *name = NULL;
  const char *name_what = "a name of letters, digits and _ (it names the report's files)";
  CL_CALL(string_member(P, e, "name", name_what, 0, &name));
  const config_setting_t *sname = config_setting_get_member(e, "name");
  if (name && !valid_name(name, 0))
    return fail_value(P, sname, name_what, NULL);
  snprintf(r->name, sizeof r->name, "%s", name ? name : pop->name);
  for (size_t j = 0; j < i; j++)
    if (strcmp(cfg->reports[j].name, r->name) == 0)
      return sname ? fail_value(P, sname, "a report name not used before", NULL)
                   : fail(P, e, "name", "missing: two reports of population %s need distinct names",
                          pop->name);
  const config_setting_t *sv = config_setting_get_member(e, "variables");
  r->vars = 1u << CL_VAR_V_M;
  if (sv) {
    const char *const names[] = {"V_m", "g_ex", "x_ex", "g_in", "x_in", "all", NULL};
    int single = !config_setting_is_aggregate(sv);
    int len = single ? 1 : config_setting_length(sv);
    if (config_setting_is_group(sv) || len == 0)
      return fail_value(P, sv,
                        "\"all\" or an array of variable names (V_m, g_ex, x_ex, g_in, "
                        "x_in)",
                        NULL);
    r->vars = 0;
    for (int k = 0; k < len; k++) {
      int v = 0;
      CL_CALL(enum_get(P, single ? sv : config_setting_get_elem(sv, (unsigned)k), names, &v));
      r->vars |= v == CL_NVARS ? (1u << CL_NVARS) - 1 : 1u << v;
    }
  }
  CL_CALL(selection_member(P, e, pop->size, &r->sel));
  r->interval = cfg->sim.dt;
  CL_CALL(q_member(P, e, "interval", CL_DIM_TIME, R_POS, 0, &r->interval));
  if (!multiple_of(r->interval, cfg->sim.dt)) {
    char w[96], dt[32];
    fmt_num(cfg->sim.dt, dt, sizeof dt);
    snprintf(w, sizeof w, "a multiple of dt (%s ms)", dt);
    return fail_value(P, config_setting_get_member(e, "interval"), w, NULL);
  }
  return CL_OK;
}

/* item() on s, a single value, or on each element of s, an array or list (nothing when s is
 * NULL). */
static int each_item(parser *P, config_setting_t *s, int (*item)(parser *, config_setting_t *)) {
  if (!s)
    return CL_OK;
  if (!config_setting_is_array(s) && !config_setting_is_list(s))
    return item(P, s);
  int n = config_setting_length(s);
  for (int i = 0; i < n; i++)
    CL_CALL(item(P, config_setting_get_elem(s, (unsigned)i)));
  return CL_OK;
}

static int parse_recording(parser *P, config_setting_t *root) {
  config_setting_t *g = config_setting_get_member(root, "recording");
  if (!g)
    return CL_OK;
  CL_CALL(expect_group(P, g,
                       "a group recording = { spikes = [...]; edges = [...]; reports = (...); }"));
  CL_CALL(check_keys(P, g, keys_recording, "the recording section", NULL, 0));
  CL_CALL(each_item(P, config_setting_get_member(g, "spikes"), spike_item));
  CL_CALL(each_item(P, config_setting_get_member(g, "edges"), edges_item));
  config_setting_t *l = config_setting_get_member(g, "reports");
  if (!l)
    return CL_OK;
  CL_CALL(expect_list_of_groups(P, l, "reports"));
  size_t n = (size_t)config_setting_length(l);
  P->cfg->reports = cl_calloc(n, sizeof *P->cfg->reports);
  CL_ALLOC_CHECK(P->cfg->reports);
  for (size_t i = 0; i < n; i++) {
    P->cfg->n_reports = i + 1;
    CL_CALL(parse_report(P, config_setting_get_elem(l, (unsigned)i), i));
  }
  return CL_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* What a projection can do to its target (for --check and the warnings)                    */

/* Linearised response to one alpha conductance, up to the factor w e (E - V_rest)/(C tau_s):
 * integral of s e^{-b s} e^{-a (t - s)} over [0, t], a = 1/tau_m, b = 1/tau_s. */
static double lin_kernel(double t, double a, double b) {
  double c = b - a;
  if (fabs(c * t) < 1e-4)
    return exp(-a * t) * 0.5 * t * t * (1 - 2 * c * t / 3 + c * c * t * t / 4);
  return (exp(-a * t) - exp(-b * t) * (1 + c * t)) / (c * c);
}

static void lin_peak(double tau_m, double tau_s, double *t_peak, double *k_peak) {
  double a = 1 / tau_m, b = 1 / tau_s, T = 10 * (tau_m + tau_s);
  int n = 2000, best = 1;
  for (int k = 1; k <= n; k++)
    if (lin_kernel(T * k / n, a, b) > lin_kernel(T * best / n, a, b))
      best = k;
  double lo = T * (best - 1) / n, hi = T * (best + 1) / n;
  const double gr = 0.5 * (sqrt(5.0) - 1);
  for (int it = 0; it < 100; it++) {
    double x1 = hi - gr * (hi - lo), x2 = lo + gr * (hi - lo);
    if (lin_kernel(x1, a, b) > lin_kernel(x2, a, b))
      hi = x2;
    else
      lo = x1;
  }
  *t_peak = 0.5 * (lo + hi);
  *k_peak = lin_kernel(*t_peak, a, b);
}

/* Whether an alpha conductance of peak gpk (nS) on receptor (E, tau) takes a neuron at rest
 * to V_th: the full (nonlinear) membrane equation, integrated with the exponential update
 * over steps of min(tau, tau_m)/50 until V turns down after the conductance's peak. */
static int nl_reaches(const cl_neuron_params *p, double E, double tau, double gpk) {
  double tau_m = p->C_m / p->g_L, V = p->E_L + p->I_e / p->g_L, Vmax = V;
  double h = (tau < tau_m ? tau : tau_m) / 50, t = 0, T = 50 * (tau + tau_m);
  while (t < T) {
    double tm = t + 0.5 * h, g = gpk * (tm / tau) * exp(1 - tm / tau);
    double G = p->g_L + g, Vinf = (p->g_L * p->E_L + p->I_e + g * E) / G;
    V = Vinf + (V - Vinf) * exp(-h * G / p->C_m);
    t += h;
    if (V >= p->V_th)
      return 1;
    if (V >= Vmax)
      Vmax = V;
    else if (t > tau)
      return 0;
  }
  return 0;
}

/* Peak change of V (mV, signed) from rest caused by one alpha conductance of peak gpk, with
 * the full membrane equation (same integration as nl_reaches). */
static double nl_psp(const cl_neuron_params *p, double E, double tau, double gpk) {
  double tau_m = p->C_m / p->g_L, V0 = p->E_L + p->I_e / p->g_L, V = V0;
  double sign = E >= V0 ? 1 : -1, best = 0;
  double h = (tau < tau_m ? tau : tau_m) / 200, t = 0, T = 50 * (tau + tau_m);
  while (t < T) {
    double tm = t + 0.5 * h, g = gpk * (tm / tau) * exp(1 - tm / tau);
    double G = p->g_L + g, Vinf = (p->g_L * p->E_L + p->I_e + g * E) / G;
    V = Vinf + (V - Vinf) * exp(-h * G / p->C_m);
    t += h;
    if (sign * (V - V0) >= best)
      best = sign * (V - V0);
    else if (t > tau)
      break;
  }
  return sign * best;
}

/* P(X >= k) for X ~ Binomial(m, q). */
static double binom_tail(double m, double q, double k) {
  if (k <= 0)
    return 1;
  if (k > m || q <= 0)
    return 0;
  if (q >= 1)
    return 1;
  double lq = log(q), lr = log1p(-q), lm = lgamma(m + 1);
#define LPMF(j) (lm - lgamma((j) + 1) - lgamma(m - (j) + 1) + (j)*lq + (m - (j)) * lr)
  double sum = 0;
  if (k > m * q) {
    for (double j = k; j <= m && j < k + 1e7; j++) {
      double t = exp(LPMF(j));
      sum += t;
      if (t < 1e-17 * sum || t == 0)
        break;
    }
    return sum < 1 ? sum : 1;
  }
  for (double j = k - 1; j >= 0 && j > k - 1 - 1e7; j--) {
    double t = exp(LPMF(j));
    sum += t;
    if (t < 1e-17 * sum || t == 0)
      break;
  }
#undef LPMF
  return sum < 1 ? 1 - sum : 0;
}

void cl_config_projection_drive(const cl_config *cfg, size_t i, cl_projection_drive *out) {
  const cl_projection_config *pr = &cfg->projections[i];
  const cl_population_config *src = &cfg->populations[pr->source],
                             *tgt = &cfg->populations[pr->target];
  const cl_neuron_params *p = &tgt->params;
  memset(out, 0, sizeof *out);
  int same = pr->source == pr->target, noaut = same && !pr->allow_autapses;
  double ns = (double)src->size, nt = (double)tgt->size;
  double ns_eff = noaut ? ns - 1 : ns, nt_eff = noaut ? nt - 1 : nt;
  /* in-degree ~ Binomial(m, q), or exactly `exact` when m < 0 */
  double m = -1, q = 0, exact = 0;
  switch (pr->rule) {
  case CL_RULE_PAIRWISE_BERNOULLI:
    m = ns_eff;
    q = pr->p;
    out->synapses = pr->p * ns_eff * nt;
    break;
  case CL_RULE_FIXED_INDEGREE:
    exact = (double)pr->k;
    out->synapses = exact * nt;
    break;
  case CL_RULE_FIXED_OUTDEGREE:
    out->synapses = (double)pr->k * ns;
    if (nt_eff > 0) {
      if (pr->allow_multapses) {
        m = ns_eff * (double)pr->k;
        q = 1 / nt_eff;
      } else {
        m = ns_eff;
        q = (double)pr->k / nt_eff;
      }
    }
    break;
  case CL_RULE_FIXED_TOTAL_NUMBER:
    out->synapses = (double)pr->n;
    m = (double)pr->n;
    q = 1 / nt;
    break;
  case CL_RULE_ONE_TO_ONE:
    exact = 1;
    out->synapses = nt;
    break;
  case CL_RULE_ALL_TO_ALL:
    exact = ns_eff;
    out->synapses = ns_eff * nt;
    break;
  }
  out->indegree = out->synapses / nt;
  out->weight = cl_config_dist_mean(&pr->weight);
  int ex = pr->receptor == CL_RECEPTOR_EX;
  double E = ex ? p->E_ex : p->E_in, tau = ex ? p->tau_ex : p->tau_in;
  double tau_m = p->C_m / p->g_L, V_rest = p->E_L + p->I_e / p->g_L;
  double kpeak = 0;
  lin_peak(tau_m, tau, &out->psp_time, &kpeak);
  out->psp_peak = out->weight * exp(1.0) * (E - V_rest) / (p->C_m * tau) * kpeak;
  out->psp_peak_full = nl_psp(p, E, tau, out->weight);
  if (V_rest >= p->V_th)
    out->n_threshold = 0;
  else if (E <= p->V_th || !(out->weight > 0))
    out->n_threshold = INFINITY;
  else {
    double hi = 1, lo = 0;
    while (!nl_reaches(p, E, tau, hi * out->weight) && hi < 1e12) {
      lo = hi;
      hi *= 2;
    }
    if (hi >= 1e12)
      out->n_threshold = INFINITY;
    else {
      while (hi - lo > 1e-4 * hi) {
        double mid = 0.5 * (lo + hi);
        if (nl_reaches(p, E, tau, mid * out->weight))
          hi = mid;
        else
          lo = mid;
      }
      out->n_threshold = hi;
    }
  }
  double need = ceil(out->n_threshold - 1e-9);
  if (!isfinite(out->n_threshold))
    out->targets_reaching = 0;
  else if (m < 0)
    out->targets_reaching = exact >= need ? nt : 0;
  else
    out->targets_reaching = nt * binom_tail(m, q, need);
}

/* The warning for a projection that cannot plausibly make its target fire. */
static void warn_drive(parser *P, size_t i) {
  const cl_config *cfg = P->cfg;
  const cl_projection_config *pr = &cfg->projections[i];
  const cl_population_config *tgt = &cfg->populations[pr->target];
  cl_projection_drive d;
  cl_config_projection_drive(cfg, i, &d);
  if (!(d.psp_peak > 0) || d.targets_reaching >= 1 || d.synapses <= 0)
    return;
  char w[32], psp[32], gap[32], n[32], k[32];
  snprintf(w, sizeof w, "%.4g", d.weight);
  snprintf(psp, sizeof psp, "%.3g", d.psp_peak);
  const cl_neuron_params *p = &tgt->params;
  snprintf(gap, sizeof gap, "%.3g", p->V_th - (p->E_L + p->I_e / p->g_L));
  snprintf(k, sizeof k, "%.3g", d.indegree);
  if (isfinite(d.n_threshold)) {
    snprintf(n, sizeof n, "%.0f", ceil(d.n_threshold - 1e-9));
    warn(P, P->proj_settings[i], NULL,
         "its target cannot reach threshold from it: one input of %s nS moves a neuron of %s "
         "at rest by %s mV, V_th is %s mV away and takes %s coincident inputs, but a target "
         "receives about %s (see condlif --check)",
         w, tgt->name, psp, gap, n, k);
  } else {
    warn(P, P->proj_settings[i], NULL,
         "its target cannot reach threshold from it: the reversal potential of its receptor is "
         "not above V_th of %s",
         tgt->name);
  }
}

/* ------------------------------------------------------------------------------------------ */
/* --set overrides                                                                            */

static void mark_override(config_setting_t *s) {
  config_setting_set_hook(s, &override_mark);
  if (config_setting_is_aggregate(s)) {
    int n = config_setting_length(s);
    for (int i = 0; i < n; i++)
      mark_override(config_setting_get_elem(s, (unsigned)i));
  }
}

static config_setting_t *copy_setting(config_setting_t *parent, const char *name,
                                      const config_setting_t *src) {
  int type = config_setting_type(src);
  config_setting_t *s = config_setting_add(parent, name, type);
  if (!s)
    return NULL;
  switch (type) {
  case CONFIG_TYPE_INT:
    config_setting_set_int(s, config_setting_get_int(src));
    break;
  case CONFIG_TYPE_INT64:
    config_setting_set_int64(s, config_setting_get_int64(src));
    break;
  case CONFIG_TYPE_FLOAT:
    config_setting_set_float(s, config_setting_get_float(src));
    break;
  case CONFIG_TYPE_BOOL:
    config_setting_set_bool(s, config_setting_get_bool(src));
    break;
  case CONFIG_TYPE_STRING:
    config_setting_set_string(s, config_setting_get_string(src));
    break;
  default: {
    int n = config_setting_length(src);
    for (int i = 0; i < n; i++) {
      const config_setting_t *e = config_setting_get_elem(src, (unsigned)i);
      if (!copy_setting(s, config_setting_is_group(src) ? config_setting_name(e) : NULL, e))
        return NULL;
    }
  }
  }
  return s;
}

static int prescan_int(const char *text, int *line_out, char *tok, size_t toklen);

/* Applies "key.path=value": value is read as a libconfig value when it is one (number, bool,
 * "string", [array], (list), {group}) and as a plain string otherwise ("200 ms", "runs/x").
 * List elements are named by their label (name, or source->target) or by [index]. */
static int apply_override(parser *P, const char *assignment) {
  const char *eq = strchr(assignment, '=');
  if (!eq)
    return CL_ERROR(CL_ERR_USER, "--set %s: expected key.path=value", assignment);
  char key[1024];
  size_t kl = (size_t)(eq - assignment);
  while (kl > 0 && isspace((unsigned char)assignment[kl - 1]))
    kl--;
  const char *k0 = assignment;
  while (kl > 0 && isspace((unsigned char)*k0)) {
    k0++;
    kl--;
  }
  if (kl == 0 || kl >= sizeof key)
    return CL_ERROR(CL_ERR_USER, "--set %s: expected key.path=value", assignment);
  memcpy(key, k0, kl);
  key[kl] = '\0';
  if (key[0] == '.' || key[kl - 1] == '.' || strstr(key, ".."))
    return CL_ERROR(CL_ERR_USER, "--set %s: expected key.path=value with keys separated by '.'",
                    assignment);
  const char *value = eq + 1;
  while (isspace((unsigned char)*value))
    value++;

  config_t vc;
  config_init(&vc);
  size_t vl = strlen(value);
  char *buf = cl_malloc(vl + 16);
  if (!buf) {
    config_destroy(&vc);
    return CL_ERR_MEM;
  }
  snprintf(buf, vl + 16, "v = %s;", value);
  int line;
  char tok[64];
  const config_setting_t *src = NULL;
  if (vl > 0 && prescan_int(buf, &line, tok, sizeof tok) == 0 && config_read_string(&vc, buf) &&
      config_setting_length(config_root_setting(&vc)) == 1)
    src = config_setting_get_member(config_root_setting(&vc), "v");
  free(buf);

  config_setting_t *cur = config_root_setting(&P->lc);
  char *save = NULL, *comp = strtok_r(key, ".", &save), prefix[1024] = "";
  int st = CL_OK;
  for (char *next = strtok_r(NULL, ".", &save); next;
       comp = next, next = strtok_r(NULL, ".", &save)) {
    size_t used = strlen(prefix);
    snprintf(prefix + used, sizeof prefix - used, "%s%s", used ? "." : "", comp);
    config_setting_t *child = NULL;
    if (config_setting_is_group(cur)) {
      child = config_setting_get_member(cur, comp);
      if (!child) {
        child = config_setting_add(cur, comp, CONFIG_TYPE_GROUP);
        if (!child) {
          st = CL_ERROR(CL_ERR_USER, "--set %s: %s: \"%s\" is not a valid key", assignment, prefix,
                        comp);
          break;
        }
        config_setting_set_hook(child, &override_mark);
      }
    } else if (config_setting_is_list(cur) || config_setting_is_array(cur)) {
      int n = config_setting_length(cur), found = -1, count = 0;
      char *end;
      const char *c = comp[0] == '[' ? comp + 1 : comp;
      long idx = strtol(c, &end, 10);
      if (isdigit((unsigned char)c[0]) && (*end == '\0' || (comp[0] == '[' && !strcmp(end, "]")))) {
        found = idx < n ? (int)idx : -1;
        count = found >= 0;
      } else {
        for (int i = 0; i < n; i++) {
          char lab[160];
          elem_label(cur, i, lab, sizeof lab);
          if (strcmp(lab, comp) == 0) {
            found = i;
            count++;
          }
        }
      }
      if (count != 1) {
        st = CL_ERROR(CL_ERR_USER,
                      "--set %s: %s: no such element (name elements by their name, "
                      "source->target for unnamed projections, or [index] from 0 to %d)",
                      assignment, prefix, n - 1);
        break;
      }
      child = config_setting_get_elem(cur, (unsigned)found);
    } else {
      st =
          CL_ERROR(CL_ERR_USER, "--set %s: %s: a value, not a group with keys", assignment, prefix);
      break;
    }
    cur = child;
  }
  if (st == CL_OK && !config_setting_is_group(cur))
    st = CL_ERROR(CL_ERR_USER,
                  "--set %s: %s: only keys of groups can be set (not elements of lists or "
                  "arrays)",
                  assignment, prefix[0] ? prefix : "(top level)");
  if (st == CL_OK) {
    config_setting_remove(cur, comp);
    /* g_L and tau_m are alternatives: setting one replaces the other. */
    if (strcmp(comp, "g_L") == 0)
      config_setting_remove(cur, "tau_m");
    else if (strcmp(comp, "tau_m") == 0)
      config_setting_remove(cur, "g_L");
    config_setting_t *s;
    if (src) {
      s = copy_setting(cur, comp, src);
    } else {
      s = config_setting_add(cur, comp, CONFIG_TYPE_STRING);
      if (s)
        config_setting_set_string(s, value);
    }
    if (!s)
      st = CL_ERROR(CL_ERR_USER, "--set %s: \"%s\" is not a valid key", assignment, comp);
    else
      mark_override(s);
  }
  config_destroy(&vc);
  return st;
}

/* ------------------------------------------------------------------------------------------ */
/* Text checks before libconfig                                                               */

/* Finds integer literals that libconfig 1.5 would silently truncate to 32 bits (no L suffix)
 * and @include directives. Returns 0 when none, 1 for an integer, 2 for @include. */
static int prescan_int(const char *text, int *line_out, char *tok, size_t toklen) {
  int line = 1, bol = 1;
  const char *s = text;
  while (*s) {
    char c = *s;
    if (c == '\n') {
      line++;
      s++;
      bol = 1;
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\r') {
      s++;
      continue;
    }
    if (c == '#' || (c == '/' && s[1] == '/')) {
      while (*s && *s != '\n')
        s++;
      continue;
    }
    if (c == '/' && s[1] == '*') {
      s += 2;
      while (*s && !(s[0] == '*' && s[1] == '/')) {
        line += *s == '\n';
        s++;
      }
      s += *s ? 2 : 0;
      bol = 0;
      continue;
    }
    if (c == '"') {
      s++;
      while (*s && *s != '"') {
        if (*s == '\\' && s[1])
          s++;
        line += *s == '\n';
        s++;
      }
      s += *s ? 1 : 0;
      bol = 0;
      continue;
    }
    if (c == '@' && bol && strncmp(s, "@include", 8) == 0) {
      *line_out = line;
      return 2;
    }
    bol = 0;
    if (isalpha((unsigned char)c) || c == '_' || c == '*') {
      while (isalnum((unsigned char)*s) || *s == '_' || *s == '-' || *s == '*')
        s++;
      continue;
    }
    if (isdigit((unsigned char)c) || ((c == '-' || c == '+') && isdigit((unsigned char)s[1]))) {
      const char *b = s;
      s += (c == '-' || c == '+');
      if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        s += 2;
        while (isxdigit((unsigned char)*s))
          s++;
      } else {
        int is_float = 0;
        while (isdigit((unsigned char)*s))
          s++;
        if (*s == '.') {
          is_float = 1;
          s++;
          while (isdigit((unsigned char)*s))
            s++;
        }
        if (*s == 'e' || *s == 'E') {
          is_float = 1;
          s++;
          s += (*s == '+' || *s == '-');
          while (isdigit((unsigned char)*s))
            s++;
        }
        if (!is_float && *s != 'L') {
          char num[64];
          size_t n = (size_t)(s - b) < sizeof num - 1 ? (size_t)(s - b) : sizeof num - 1;
          memcpy(num, b, n);
          num[n] = '\0';
          errno = 0;
          long long v = strtoll(num, NULL, 10);
          if (errno || v > INT_MAX || v < INT_MIN) {
            *line_out = line;
            snprintf(tok, toklen, "%s", num);
            return 1;
          }
        }
      }
      while (*s == 'L')
        s++;
      continue;
    }
    s++;
  }
  return 0;
}

/* A hint for common syntax errors on line `line` of text. */
static const char *syntax_hint(const char *text, int line, const char *lc_text) {
  if (lc_text && strstr(lc_text, "mismatched element type"))
    return " (the elements of an array [...] must all have one type: write 1.0 rather than 1 "
           "among floats, or use a list (...))";
  const char *s = text;
  for (int l = 1; l < line && *s; s++)
    l += *s == '\n';
  const char *e = strchr(s, '\n');
  size_t len = e ? (size_t)(e - s) : strlen(s);
  int quotes = 0;
  for (size_t j = 0; j < len; j++) {
    if (s[j] == '"')
      quotes++;
    if (s[j] == '#')
      break;
    if (quotes % 2 == 0 && isdigit((unsigned char)s[j]) &&
        (j == 0 || !(isalnum((unsigned char)s[j - 1]) || s[j - 1] == '_' || s[j - 1] == '.'))) {
      size_t k = j;
      while (k < len && (isdigit((unsigned char)s[k]) || s[k] == '.'))
        k++;
      while (k < len && s[k] == ' ')
        k++;
      if (k < len && (isalpha((unsigned char)s[k]) || (unsigned char)s[k] == 0xc2) && s[k] != 'e' &&
          s[k] != 'E' && s[k] != 'L')
        return " (a value with a unit must be a quoted string, e.g. dt = \"0.1 ms\";)";
    }
  }
  return "";
}

/* ------------------------------------------------------------------------------------------ */
/* Entry points                                                                               */

static const char *const keys_root[] = {"simulation",  "populations", "stimuli",
                                        "projections", "recording",   NULL};

static int parse_all(parser *P, const char *text, const cl_config_override *ov, size_t nov) {
  int line = 0;
  char tok[64] = "";
  int scan = prescan_int(text, &line, tok, sizeof tok);
  if (scan == 1)
    return CL_ERROR(CL_ERR_USER,
                    "%s:%d: integer %s does not fit libconfig's 32-bit integers: write %sL (or "
                    "as a string \"%s\")",
                    P->path, line, tok, tok, tok);
  if (scan == 2)
    return CL_ERROR(CL_ERR_USER,
                    "%s:%d: @include is not supported (rank 0 reads one file and broadcasts it)",
                    P->path, line);
  if (!config_read_string(&P->lc, text)) {
    int el = config_error_line(&P->lc);
    const char *et = config_error_text(&P->lc);
    return CL_ERROR(CL_ERR_USER, "%s:%d: invalid libconfig syntax: %s%s", P->path, el,
                    et ? et : "syntax error", syntax_hint(text, el, et));
  }
  for (size_t i = 0; i < nov; i++)
    CL_CALL(apply_override(P, ov[i].assignment));
  config_setting_t *root = config_root_setting(&P->lc);
  CL_CALL(check_keys(P, root, keys_root, "the top level", NULL, 0));
  CL_CALL(parse_simulation(P, root));
  CL_CALL(parse_populations(P, root));
  CL_CALL(parse_stimuli(P, root));
  CL_CALL(parse_projections(P, root));
  CL_CALL(check_delay_bounds(P));
  CL_CALL(parse_recording(P, root));
  CL_CALL(check_edge_names(P));
  if (P->warn) {
    for (size_t i = 0; i < P->cfg->n_projections; i++)
      warn_drive(P, i);
    int any = P->cfg->n_reports > 0;
    for (size_t i = 0; i < P->cfg->n_populations; i++)
      any |= P->cfg->populations[i].record_spikes;
    for (size_t i = 0; i < P->cfg->n_projections; i++)
      any |= P->cfg->projections[i].record_edges;
    if (!any)
      warn(P, root, "recording",
           "nothing is recorded: set record_spikes = true in a population, or add a recording "
           "section");
  }
  return CL_OK;
}

int cl_config_parse(const char *path, const char *text, const cl_config_override *overrides,
                    size_t n_overrides, int warn_flag, cl_config *out) {
  memset(out, 0, sizeof *out);
  parser P;
  memset(&P, 0, sizeof P);
  P.path = path ? path : "(config)";
  P.cfg = out;
  P.warn = warn_flag;
  const char *slash = strrchr(P.path, '/');
  if (slash)
    snprintf(P.dir, sizeof P.dir, "%.*s", (int)(slash - P.path), P.path);
  if (slash == P.path)
    snprintf(P.dir, sizeof P.dir, "/");
  snprintf(out->path, sizeof out->path, "%s", P.path);
  size_t len = strlen(text);
  out->text = cl_malloc(len + 1);
  CL_ALLOC_CHECK(out->text);
  memcpy(out->text, text, len + 1);
  config_init(&P.lc);
  int st = parse_all(&P, text, overrides, n_overrides);
  config_destroy(&P.lc);
  free(P.proj_settings);
  if (st != CL_OK)
    cl_config_destroy(out);
  return st;
}

/* After every rank parsed: the lowest failing rank's status and message become every rank's,
 * so all return the same status and rank 0 can print the message. */
static int agree_with_message(MPI_Comm comm, int st, cl_config *out) {
  int rank, size, root;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  int mine = st != CL_OK ? rank : size;
  MPI_Allreduce(&mine, &root, 1, MPI_INT, MPI_MIN, comm);
  if (root == size)
    return CL_OK;
  int code = st;
  MPI_Bcast(&code, 1, MPI_INT, root, comm);
  char msg[4096];
  snprintf(msg, sizeof msg, "%s", rank == root ? cl_error_message() : "");
  MPI_Bcast(msg, (int)sizeof msg, MPI_CHAR, root, comm);
  if (out)
    cl_config_destroy(out);
  if (rank != root) {
    if (code == CL_ERR_USER || root == 0)
      cl_error_set(code, __FILE__, __LINE__, "%s", msg);
    else
      cl_error_set(code, __FILE__, __LINE__, "on rank %d: %s", root, msg);
  }
  return code;
}

int cl_config_load(const char *path, const cl_config_override *overrides, size_t n_overrides,
                   int warn_flag, cl_config *out) {
  MPI_Comm comm = MPI_COMM_WORLD;
  int rank;
  MPI_Comm_rank(comm, &rank);
  memset(out, 0, sizeof *out);
  char *text = NULL;
  long long len = -1;
  int st = CL_OK;
  if (rank == 0) {
    FILE *f = fopen(path, "rb");
    if (!f) {
      st = CL_ERROR(CL_ERR_USER, "%s: cannot read the configuration: %s", path, strerror(errno));
    } else {
      struct stat sb;
      if (fstat(fileno(f), &sb) == 0 && S_ISDIR(sb.st_mode)) {
        st = CL_ERROR(CL_ERR_USER, "%s: cannot read the configuration: it is a directory", path);
      } else if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 &&
                 fseek(f, 0, SEEK_SET) == 0) {
        if (len > INT_MAX - 1) {
          st = CL_ERROR(CL_ERR_USER, "%s: too large for a configuration (%lld bytes)", path, len);
        } else if (!(text = cl_malloc((size_t)len + 1))) {
          st = CL_ERR_MEM;
        } else if (fread(text, 1, (size_t)len, f) != (size_t)len) {
          st = CL_ERROR(CL_ERR_USER, "%s: cannot read the configuration: %s", path,
                        ferror(f) ? strerror(errno) : "short read");
        } else {
          text[len] = '\0';
          if (strlen(text) != (size_t)len)
            st = CL_ERROR(CL_ERR_USER, "%s: not a text file (it holds a NUL byte)", path);
        }
      } else {
        st = CL_ERROR(CL_ERR_USER, "%s: cannot read the configuration: %s", path, strerror(errno));
      }
      fclose(f);
    }
    if (st != CL_OK)
      len = -1;
  }
  /* rank 0's outcome, then (on success) the bytes */
  int st0 = st;
  MPI_Bcast(&st0, 1, MPI_INT, 0, comm);
  if (st0 != CL_OK) {
    free(text);
    return agree_with_message(comm, st, NULL);
  }
  MPI_Bcast(&len, 1, MPI_LONG_LONG, 0, comm);
  if (rank != 0)
    text = cl_malloc((size_t)len + 1);
  st = text ? CL_OK : CL_ERR_MEM;
  if (cl_error_agree(comm, st) != CL_OK) {
    free(text);
    return agree_with_message(comm, st, NULL);
  }
  MPI_Bcast(text, (int)len, MPI_CHAR, 0, comm);
  text[len] = '\0';
  st = cl_config_parse_all(path, text, overrides, n_overrides, warn_flag, out);
  free(text);
  return st;
}

int cl_config_parse_all(const char *path, const char *text, const cl_config_override *overrides,
                        size_t n_overrides, int warn_flag, cl_config *out) {
  int rank;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  int st = cl_config_parse(path, text, overrides, n_overrides, warn_flag && rank == 0, out);
  return agree_with_message(MPI_COMM_WORLD, st, out);
}

void cl_config_destroy(cl_config *cfg) {
  if (!cfg)
    return;
  free(cfg->text);
  for (size_t i = 0; i < cfg->n_populations && cfg->populations; i++) {
    free(cfg->populations[i].spike_sel.ids);
    free(cfg->populations[i].spike_ptr);
    free(cfg->populations[i].spike_times);
  }
  free(cfg->populations);
  for (size_t i = 0; i < cfg->n_stimuli && cfg->stimuli; i++) {
    free(cfg->stimuli[i].sel.ids);
    free(cfg->stimuli[i].times);
    free(cfg->stimuli[i].values);
  }
  free(cfg->stimuli);
  free(cfg->projections);
  for (size_t i = 0; i < cfg->n_reports && cfg->reports; i++)
    free(cfg->reports[i].sel.ids);
  free(cfg->reports);
  memset(cfg, 0, sizeof *cfg);
}

/* ------------------------------------------------------------------------------------------ */
/* Resolved text                                                                              */

/* A float as libconfig reads it back exactly (always with '.' or an exponent). */
static void put_float(FILE *f, double v) {
  char b[40];
  fmt_num(v, b, sizeof b);
  if (!strpbrk(b, ".eE"))
    strcat(b, ".0");
  fputs(b, f);
}

static void put_string(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; s++) {
    if (*s == '"' || *s == '\\')
      fprintf(f, "\\%c", *s);
    else if (*s == '\n')
      fputs("\\n", f);
    else if (*s == '\t')
      fputs("\\t", f);
    else if ((unsigned char)*s < 0x20)
      fprintf(f, "\\x%02x", (unsigned char)*s);
    else
      fputc(*s, f);
  }
  fputc('"', f);
}

static void put_uint(FILE *f, uint64_t v) {
  if (v <= INT_MAX)
    fprintf(f, "%llu", (unsigned long long)v);
  else if (v <= INT64_MAX)
    fprintf(f, "%lluL", (unsigned long long)v);
  else
    fprintf(f, "\"%llu\"", (unsigned long long)v);
}

static void put_key_float(FILE *f, const char *ind, const char *key, double v, const char *unit) {
  fprintf(f, "%s%s = ", ind, key);
  put_float(f, v);
  fprintf(f, ";%s%s\n", unit[0] ? "  # " : "", unit);
}

static void put_dist(FILE *f, const char *ind, const char *key, const cl_dist *d,
                     const char *unit) {
  fprintf(f, "%s%s = ", ind, key);
  switch (d->kind) {
  case CL_DIST_CONST:
    put_float(f, d->a);
    break;
  case CL_DIST_UNIFORM:
    fputs("{ distribution = \"uniform\"; low = ", f);
    put_float(f, d->a);
    fputs("; high = ", f);
    put_float(f, d->b);
    fputs("; }", f);
    break;
  case CL_DIST_NORMAL:
  case CL_DIST_LOGNORMAL:
    fprintf(f, "{ distribution = \"%s\"; %s = ", d->kind == CL_DIST_NORMAL ? "normal" : "lognormal",
            d->kind == CL_DIST_NORMAL ? "mean" : "mu");
    put_float(f, d->a);
    fprintf(f, "; %s = ", d->kind == CL_DIST_NORMAL ? "sd" : "sigma");
    put_float(f, d->b);
    if (d->kind == CL_DIST_NORMAL && isfinite(d->lo)) {
      fputs("; min = ", f);
      put_float(f, d->lo);
    }
    if (d->kind == CL_DIST_NORMAL && isfinite(d->hi)) {
      fputs("; max = ", f);
      put_float(f, d->hi);
    }
    fputs("; }", f);
    break;
  }
  fprintf(f, ";  # %s%s\n", unit,
          d->kind == CL_DIST_LOGNORMAL ? " (mu, sigma: of its logarithm)" : "");
}

static void put_floats(FILE *f, const char *ind, const char *key, const double *v, size_t n,
                       const char *unit) {
  fprintf(f, "%s%s = [", ind, key);
  for (size_t i = 0; i < n; i++) {
    fputs(i ? (i % 8 ? ", " : ",\n    ") : "", f);
    put_float(f, v[i]);
  }
  fprintf(f, "];  # %s\n", unit);
}

static void put_selection(FILE *f, const char *ind, const char *key, const cl_selection *s) {
  fprintf(f, "%s%s = ", ind, key);
  if (s->all) {
    fputs("\"all\";\n", f);
    return;
  }
  fputc('(', f);
  for (size_t i = 0; i < s->n; i++) {
    fputs(i ? (i % 12 ? ", " : ",\n    ") : "", f);
    put_uint(f, s->ids[i]);
  }
  fputs(");\n", f);
}

static void put_start_stop(FILE *f, const char *ind, double start, double stop) {
  put_key_float(f, ind, "start", start, "ms");
  if (isfinite(stop))
    put_key_float(f, ind, "stop", stop, "ms");
}

char *cl_config_resolved_text(const cl_config *cfg) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (!f) {
    CL_ERROR(CL_ERR_MEM, "out of memory writing the resolved configuration");
    return NULL;
  }
  const char *I = "    ";
  const cl_simulation_config *sim = &cfg->sim;
  fprintf(f, "# condlif: resolved configuration of ");
  put_string(f, cfg->path);
  fputs("\n# Every default applied; values in ms, mV, pF, nS, pA, Hz, rad.\n\n", f);
  fputs("simulation = {\n", f);
  put_key_float(f, "  ", "dt", sim->dt, "ms");
  put_key_float(f, "  ", "t_stop", sim->t_stop, "ms");
  fputs("  seed = ", f);
  put_uint(f, sim->seed);
  fputs(";\n", f);
  if (sim->min_delay > 0)
    put_key_float(f, "  ", "min_delay", sim->min_delay, "ms");
  if (sim->max_delay > 0)
    put_key_float(f, "  ", "max_delay", sim->max_delay, "ms");
  fputs("  output = ", f);
  put_string(f, sim->output);
  fputs(";\n", f);
  put_key_float(f, "  ", "spike_flush_interval", sim->spike_flush_interval, "ms");
  put_key_float(f, "  ", "report_flush_interval", sim->report_flush_interval, "ms");
  fprintf(f, "  threshold_mode = \"%s\";\n", mode_names[sim->mode]);
  fprintf(f, "  checkpoint = \"%s\";\n", checkpoint_names[sim->checkpoint]);
  if (sim->checkpoint_interval > 0)
    put_key_float(f, "  ", "checkpoint_interval", sim->checkpoint_interval,
                  "ms of wall-clock time");
  if (sim->initial_state[0]) {
    fputs("  initial_state = ", f);
    put_string(f, sim->initial_state);
    fputs(";\n", f);
  }
  fputs("};\n\npopulations = (\n", f);
  for (size_t i = 0; i < cfg->n_populations; i++) {
    const cl_population_config *p = &cfg->populations[i];
    fputs("  {\n", f);
    fprintf(f, "%sname = ", I);
    put_string(f, p->name);
    fprintf(f, ";\n%smodel = \"%s\";\n%ssize = ", I, model_names[p->model], I);
    put_uint(f, p->size);
    fprintf(f, ";  # gids %llu to %llu\n", (unsigned long long)p->first_gid,
            (unsigned long long)(p->first_gid + p->size - 1));
    if (p->record_spikes && !p->spike_sel.all)
      put_selection(f, I, "record_spikes", &p->spike_sel);
    else
      fprintf(f, "%srecord_spikes = %s;\n", I, p->record_spikes ? "true" : "false");
    if (p->model == CL_MODEL_COND_ALPHA) {
      const cl_neuron_params *q = &p->params;
      put_key_float(f, I, "C_m", q->C_m, "pF");
      char tm[32];
      fmt_num(q->C_m / q->g_L, tm, sizeof tm);
      fprintf(f, "%sg_L = ", I);
      put_float(f, q->g_L);
      fprintf(f, ";  # nS (tau_m = C_m/g_L = %s ms)\n", tm);
      put_key_float(f, I, "E_L", q->E_L, "mV");
      put_key_float(f, I, "E_ex", q->E_ex, "mV");
      put_key_float(f, I, "E_in", q->E_in, "mV");
      put_key_float(f, I, "V_th", q->V_th, "mV");
      put_key_float(f, I, "V_reset", q->V_reset, "mV");
      put_key_float(f, I, "t_ref", q->t_ref, "ms");
      put_key_float(f, I, "tau_ex", q->tau_ex, "ms");
      put_key_float(f, I, "tau_in", q->tau_in, "ms");
      put_key_float(f, I, "I_e", q->I_e, "pA");
      fprintf(f, "%sthreshold_mode = \"%s\";\n%sinit = {\n", I, mode_names[q->mode], I);
      for (int v = 0; v < CL_NVARS; v++)
        put_dist(f, "      ", cl_var_names[v], &p->init[v], cl_var_units[v]);
      fprintf(f, "%s};\n", I);
    } else if (p->model == CL_MODEL_POISSON_SOURCE) {
      put_key_float(f, I, "rate", p->rate, "Hz");
      put_start_stop(f, I, p->start, p->stop);
    } else {
      uint64_t n = p->spike_ptr[p->size];
      fprintf(f, "%sindices = (", I);
      for (uint64_t s = 0, k = 0; s < p->size; s++)
        for (uint64_t j = p->spike_ptr[s]; j < p->spike_ptr[s + 1]; j++, k++) {
          fputs(k ? (k % 12 ? ", " : ",\n      ") : "", f);
          put_uint(f, s);
        }
      fputs(");\n", f);
      put_floats(f, I, "times", p->spike_times, n, "ms");
    }
    fprintf(f, "  }%s\n", i + 1 < cfg->n_populations ? "," : "");
  }
  fputs(");\n", f);
  if (cfg->n_stimuli) {
    fputs("\nstimuli = (\n", f);
    for (size_t i = 0; i < cfg->n_stimuli; i++) {
      const cl_stimulus_config *s = &cfg->stimuli[i];
      fputs("  {\n", f);
      fprintf(f, "%sname = ", I);
      put_string(f, s->name);
      fprintf(f, ";\n%stype = \"%s\";\n%starget = ", I, stim_types[s->kind], I);
      put_string(f, cfg->populations[s->target].name);
      fputs(";\n", f);
      put_selection(f, I, "neurons", &s->sel);
      switch (s->kind) {
      case CL_STIM_DC:
        put_key_float(f, I, "amplitude", s->amplitude, "pA");
        put_start_stop(f, I, s->start, s->stop);
        break;
      case CL_STIM_SINE:
        put_key_float(f, I, "amplitude", s->amplitude, "pA");
        put_key_float(f, I, "offset", s->offset, "pA");
        put_key_float(f, I, "frequency", s->frequency, "Hz");
        put_key_float(f, I, "phase", s->phase, "rad");
        put_start_stop(f, I, s->start, s->stop);
        break;
      case CL_STIM_PIECEWISE:
        put_floats(f, I, "times", s->times, s->n_points, "ms");
        put_floats(f, I, "amplitudes", s->values, s->n_points, "pA");
        break;
      case CL_STIM_TIMESERIES:
        if (s->path[0]) {
          fprintf(f, "%sfile = ", I);
          put_string(f, s->path);
          fputs(";  # values below were read from it\n", f);
        }
        put_floats(f, I, "values", s->values, s->n_points, "pA");
        fprintf(f, "%sunit = \"pA\";\n", I);
        put_key_float(f, I, "dt", s->series_dt, "ms");
        put_start_stop(f, I, s->start, s->stop);
        break;
      case CL_STIM_POISSON:
      case CL_STIM_SPIKES:
        if (s->kind == CL_STIM_POISSON)
          put_key_float(f, I, "rate", s->rate, "Hz");
        else
          put_floats(f, I, "times", s->times, s->n_points, "ms");
        put_key_float(f, I, "weight", s->weight, "nS (peak conductance)");
        fprintf(f, "%sreceptor = \"%s\";\n", I, receptor_names[s->receptor]);
        if (s->kind == CL_STIM_POISSON)
          put_start_stop(f, I, s->start, s->stop);
        break;
      }
      fprintf(f, "  }%s\n", i + 1 < cfg->n_stimuli ? "," : "");
    }
    fputs(");\n", f);
  }
  if (cfg->n_projections) {
    fputs("\nprojections = (\n", f);
    for (size_t i = 0; i < cfg->n_projections; i++) {
      const cl_projection_config *p = &cfg->projections[i];
      fputs("  {\n", f);
      fprintf(f, "%sname = ", I);
      put_string(f, p->name);
      fprintf(f, ";\n%ssource = ", I);
      put_string(f, cfg->populations[p->source].name);
      fprintf(f, ";\n%starget = ", I);
      put_string(f, cfg->populations[p->target].name);
      fprintf(f, ";\n%sreceptor = \"%s\";\n%srule = \"%s\";\n", I, receptor_names[p->receptor], I,
              rule_names[p->rule]);
      if (p->rule == CL_RULE_PAIRWISE_BERNOULLI)
        put_key_float(f, I, "p", p->p, "");
      if (p->rule == CL_RULE_FIXED_INDEGREE || p->rule == CL_RULE_FIXED_OUTDEGREE) {
        fprintf(f, "%sk = ", I);
        put_uint(f, p->k);
        fputs(";\n", f);
      }
      if (p->rule == CL_RULE_FIXED_TOTAL_NUMBER) {
        fprintf(f, "%sn = ", I);
        put_uint(f, p->n);
        fputs(";\n", f);
      }
      fprintf(f, "%sallow_autapses = %s;\n%sallow_multapses = %s;\n", I,
              p->allow_autapses ? "true" : "false", I, p->allow_multapses ? "true" : "false");
      put_dist(f, I, "weight", &p->weight, "nS (peak conductance)");
      put_dist(f, I, "delay", &p->delay, "ms");
      fprintf(f, "%srecord_edges = %s;\n", I, p->record_edges ? "true" : "false");
      fprintf(f, "  }%s\n", i + 1 < cfg->n_projections ? "," : "");
    }
    fputs(");\n", f);
  }
  if (cfg->n_reports) {
    fputs("\nrecording = {\n  reports = (\n", f);
    const char *J = "      ";
    for (size_t i = 0; i < cfg->n_reports; i++) {
      const cl_report_config *r = &cfg->reports[i];
      fputs("    {\n", f);
      fprintf(f, "%sname = ", J);
      put_string(f, r->name);
      fprintf(f, ";\n%spopulation = ", J);
      put_string(f, cfg->populations[r->population].name);
      fprintf(f, ";\n%svariables = [", J);
      for (int v = 0, k = 0; v < CL_NVARS; v++)
        if (r->vars & (1u << v))
          fprintf(f, "%s\"%s\"", k++ ? ", " : "", cl_var_names[v]);
      fputs("];\n", f);
      put_selection(f, J, "neurons", &r->sel);
      put_key_float(f, J, "interval", r->interval, "ms");
      fprintf(f, "    }%s\n", i + 1 < cfg->n_reports ? "," : "");
    }
    fputs("  );\n};\n", f);
  }
  if (fclose(f) != 0 || !buf) {
    free(buf);
    CL_ERROR(CL_ERR_MEM, "out of memory writing the resolved configuration");
    return NULL;
  }
  return buf;
}

int cl_config_single_delay_rows(const cl_config *cfg) {
  for (size_t j = 0; j < cfg->n_projections; j++) {
    const cl_projection_config *a = &cfg->projections[j];
    if (a->delay.kind != CL_DIST_CONST)
      return 0;
    for (size_t k = 0; k < j; k++) {
      const cl_projection_config *b = &cfg->projections[k];
      if (b->source == a->source && cl_config_delay_to_steps(a->delay.a, cfg->sim.dt) !=
                                        cl_config_delay_to_steps(b->delay.a, cfg->sim.dt))
        return 0;
    }
  }
  return 1;
}

/* The network part of a resolved text: its populations and projections sections, without
 * what a run may change on the same network (record_spikes, record_edges) and the initial
 * values (init = { ... }, replaced by a state read from a checkpoint). Lines are kept whole. */
static char *network_text(const char *text) {
  char *out = cl_malloc(strlen(text) + 1);
  if (!out)
    return NULL;
  size_t o = 0;
  int in = 0, init = 0;
  for (const char *line = text; *line;) {
    const char *nl = strchr(line, '\n');
    size_t len = nl ? (size_t)(nl - line) + 1 : strlen(line);
    const char *t = line;
    while (*t == ' ')
      t++;
    if (strncmp(line, "populations = (", 15) == 0 || strncmp(line, "projections = (", 15) == 0)
      in = 1;
    else if (line[0] != ' ' && line[0] != ')' && line[0] != '\n')
      in = 0;
    int keep = in && !init;
    if (in && (strncmp(t, "record_spikes", 13) == 0 || strncmp(t, "record_edges", 12) == 0))
      keep = 0;
    if (in && strncmp(t, "init = {", 8) == 0) {
      keep = 0;
      init = !(len >= 3 && strncmp(line + len - (nl ? 3 : 2), "};", 2) == 0);
    } else if (init && strncmp(t, "};", 2) == 0) {
      init = 0;
    }
    if (keep) {
      memcpy(out + o, line, len);
      o += len;
    }
    line += len;
  }
  out[o] = '\0';
  return out;
}

/* The line of s at offset pos, trimmed, into buf. */
static void line_at(const char *s, size_t pos, char *buf, size_t n) {
  const char *b = s + pos;
  while (*b == ' ')
    b++;
  size_t len = strcspn(b, "\n");
  snprintf(buf, n, "%.*s", (int)(len < 200 ? len : 200), b);
}

/* Whether two spike inputs are the same one: name, kind, target, neurons, times, rate,
 * weight, receptor. */
static int same_spike_input(const cl_stimulus_config *a, const cl_stimulus_config *b) {
  if (strcmp(a->name, b->name) != 0 || a->kind != b->kind || a->target != b->target ||
      a->start != b->start || a->stop != b->stop || a->rate != b->rate || a->weight != b->weight ||
      a->receptor != b->receptor || a->sel.all != b->sel.all || a->n_points != b->n_points)
    return 0;
  if (!a->sel.all && (a->sel.n != b->sel.n ||
                      (a->sel.n && memcmp(a->sel.ids, b->sel.ids, a->sel.n * sizeof *a->sel.ids))))
    return 0;
  return !a->n_points || memcmp(a->times, b->times, a->n_points * sizeof *a->times) == 0;
}

int cl_config_same_network(cl_config *cfg, const cl_config *base, const char *base_path) {
  for (size_t i = 0; i < cfg->n_stimuli; i++) {
    cl_stimulus_config *s = &cfg->stimuli[i];
    s->resumes = 0;
    for (size_t j = 0;
         j < base->n_stimuli && (s->kind == CL_STIM_POISSON || s->kind == CL_STIM_SPIKES); j++)
      if (same_spike_input(s, &base->stimuli[j]))
        s->resumes = 1;
  }
  const char *key = "simulation.initial_state";
  if (cfg->sim.dt != base->sim.dt)
    return CL_ERROR(CL_ERR_USER,
                    "%s: %s: simulation.dt = %.10g ms here and %.10g ms in %s: the network and "
                    "its time step must be the initial state's",
                    cfg->path, key, cfg->sim.dt, base->sim.dt, base_path);
  if (cfg->sim.seed != base->sim.seed)
    return CL_ERROR(CL_ERR_USER,
                    "%s: %s: simulation.seed = %llu here and %llu in %s: the network (drawn from "
                    "the seed) must be the initial state's",
                    cfg->path, key, (unsigned long long)cfg->sim.seed,
                    (unsigned long long)base->sim.seed, base_path);
  char *ra = cl_config_resolved_text(cfg), *rb = cl_config_resolved_text(base);
  char *a = ra ? network_text(ra) : NULL, *b = rb ? network_text(rb) : NULL;
  int st = a && b ? CL_OK : CL_ERR_MEM;
  if (st == CL_OK && strcmp(a, b) != 0) {
    size_t i = 0, line = 0;
    while (a[i] && a[i] == b[i]) {
      if (a[i] == '\n')
        line = i + 1;
      i++;
    }
    /* the entry the difference is in: the last name before it */
    char name[CL_NAME_MAX + 16] = "", here[256], there[256];
    const char *sec = "populations";
    for (const char *p = a; p < a + line; p = strchr(p, '\n') + 1) {
      const char *t = p;
      while (*t == ' ')
        t++;
      if (strncmp(p, "projections = (", 15) == 0)
        sec = "projections";
      if (strncmp(t, "name = \"", 8) == 0)
        snprintf(name, sizeof name, "%.*s", (int)strcspn(t + 8, "\""), t + 8);
    }
    line_at(a, line, here, sizeof here);
    line_at(b, line, there, sizeof there);
    st = CL_ERROR(CL_ERR_USER,
                  "%s: %s: the network differs from the initial state's (%s): %s%s%s: '%s' "
                  "here, '%s' there; only stimuli, recording and simulation settings may differ",
                  cfg->path, key, base_path, sec, name[0] ? "." : "", name, here, there);
  }
  free(ra);
  free(rb);
  free(a);
  free(b);
  return st;
}
