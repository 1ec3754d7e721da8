#include "condlif/cli.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "condlif/error.h"

void cl_cli_usage(FILE *f) {
  fputs("usage: condlif [options] CONFIG\n"
        "       condlif [options] --continue DIR\n"
        "\n"
        "Simulates the network described by the libconfig file CONFIG (format: config/README.md)\n"
        "and writes spikes, state reports and, when asked, its synapses (HDF5) into the run\n"
        "directory.\n"
        "\n"
        "options:\n"
        "  -h, --help              print this help and exit\n"
        "      --version           print the version and git commit and exit\n"
        "      --check             validate CONFIG and print what it builds (populations,\n"
        "                          parameters with defaults, synapse counts, delays, memory per\n"
        "                          rank, PSP sizes and threshold reachability); no simulation\n"
        "  -o, --output DIR        run directory (overrides simulation.output)\n"
        "      --set KEY=VALUE     override one setting before validation, e.g.\n"
        "                            --set simulation.t_stop=\"200 ms\"\n"
        "                            --set populations.exc.C_m=250\n"
        "                            --set projections.exc->inh.weight=\"2 nS\"\n"
        "                          (repeatable; list elements are named by name, by\n"
        "                          source->target for projections, or by [index])\n"
        "      --force             reuse an existing run directory (its files are replaced)\n"
        "      --continue DIR      go on with the run in DIR from its checkpoint.h5 (written\n"
        "                          when a signal stops a run, or at its end with\n"
        "                          simulation.checkpoint = \"end\"), on any number of ranks,\n"
        "                          up to its t_stop or --set simulation.t_stop=...; the\n"
        "                          configuration is the checkpoint's (only t_stop, checkpoint,\n"
        "                          checkpoint_interval and the flush intervals of simulation\n"
        "                          may be --set)\n"
        "  -q, --quiet             print errors only\n"
        "      --progress          report simulated time, speed and ETA while running (on\n"
        "                          stderr: one line updated every second on a terminal, a\n"
        "                          new line every 10 s into a file or pipe)\n"
        "\n"
        "SIGTERM, SIGINT or SIGUSR1 stops a run at the next spike exchange (every D_min) on\n"
        "all ranks, with its output written up to there and marked incomplete, and a\n"
        "checkpoint from which --continue goes on (unless simulation.checkpoint = \"never\").\n"
        "\n"
        "Exit status: 0 on success, 2 for an invalid configuration or command line, 3 for a\n"
        "run stopped by a signal, 1 for other failures.\n",
        f);
}

static const char *const long_opts[] = {"--help",  "--version", "--check",    "--output",   "--set",
                                        "--force", "--quiet",   "--progress", "--continue", NULL};

/* The settings a continued run may change: the rest is the checkpoint's network. */
static const char *const resume_keys[] = {"simulation.t_stop",
                                          "simulation.checkpoint",
                                          "simulation.checkpoint_interval",
                                          "simulation.spike_flush_interval",
                                          "simulation.report_flush_interval",
                                          NULL};

static size_t distance(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  if (la > 31 || lb > 31)
    return 99;
  size_t d[32][32];
  for (size_t i = 0; i <= la; i++)
    d[i][0] = i;
  for (size_t j = 0; j <= lb; j++)
    d[0][j] = j;
  for (size_t i = 1; i <= la; i++)
    for (size_t j = 1; j <= lb; j++) {
      size_t v = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
      if (d[i - 1][j] + 1 < v)
        v = d[i - 1][j] + 1;
      if (d[i][j - 1] + 1 < v)
        v = d[i][j - 1] + 1;
      d[i][j] = v;
    }
  return d[la][lb];
}

static int unknown_option(const char *arg) {
  char name[64];
  const char *eq = strchr(arg, '=');
  size_t n = eq ? (size_t)(eq - arg) : strlen(arg);
  snprintf(name, sizeof name, "%.*s", (int)(n < 63 ? n : 63), arg);
  for (size_t i = 0; long_opts[i] && eq; i++)
    if (strcmp(name, long_opts[i]) == 0)
      return CL_ERROR(CL_ERR_USER, "option %s takes no value; see condlif --help", name);
  const char *best = NULL;
  size_t bd = 3;
  for (size_t i = 0; long_opts[i]; i++) {
    size_t d = distance(name, long_opts[i]);
    if (d < bd) {
      bd = d;
      best = long_opts[i];
    }
  }
  if (best)
    return CL_ERROR(CL_ERR_USER, "unknown option %s (did you mean %s?); see condlif --help", name,
                    best);
  return CL_ERROR(CL_ERR_USER, "unknown option %s; see condlif --help", name);
}

/* The key of assignment a (up to eq, its '='), without surrounding spaces: [*k, *ke). */
static void key_span(const char *a, const char *eq, const char **k, const char **ke) {
  *k = a;
  *ke = eq;
  while (*k < *ke && isspace((unsigned char)**k))
    (*k)++;
  while (*ke > *k && isspace((unsigned char)(*ke)[-1]))
    (*ke)--;
}

/* key.path=value with a non-empty key of '.'-separated non-empty parts. */
static int check_assignment(const char *a) {
  const char *eq = strchr(a, '=');
  if (!eq)
    return CL_ERROR(CL_ERR_USER, "--set %s: expected KEY=VALUE, e.g. --set simulation.t_stop=200",
                    a);
  const char *k, *ke;
  key_span(a, eq, &k, &ke);
  if (k == ke)
    return CL_ERROR(CL_ERR_USER, "--set %s: the key before '=' is empty", a);
  if (*k == '.' || ke[-1] == '.')
    return CL_ERROR(CL_ERR_USER, "--set %s: a key path is names separated by single dots", a);
  for (const char *p = k; p + 1 < ke; p++)
    if (p[0] == '.' && p[1] == '.')
      return CL_ERROR(CL_ERR_USER, "--set %s: a key path is names separated by single dots", a);
  return CL_OK;
}

/* --continue DIR: the configuration, the run directory and the network are the checkpoint's. */
static int check_resume(const cl_cli *c) {
  if (c->config_path)
    return CL_ERROR(CL_ERR_USER,
                    "--continue %s takes the configuration from %s/checkpoint.h5: give no "
                    "configuration file (%s)",
                    c->resume, c->resume, c->config_path);
  if (c->output)
    return CL_ERROR(CL_ERR_USER, "--continue %s writes on in %s: -o/--output does not apply",
                    c->resume, c->resume);
  if (c->force)
    return CL_ERROR(CL_ERR_USER,
                    "--continue %s writes on in the files of %s: --force does not "
                    "apply",
                    c->resume, c->resume);
  for (size_t i = 0; i < c->n_sets; i++) {
    const char *a = c->sets[i].assignment, *k, *ke;
    key_span(a, strchr(a, '='), &k, &ke);
    int ok = 0;
    for (size_t j = 0; resume_keys[j] && !ok; j++)
      ok = strlen(resume_keys[j]) == (size_t)(ke - k) &&
           strncmp(resume_keys[j], k, (size_t)(ke - k)) == 0;
    if (!ok)
      return CL_ERROR(CL_ERR_USER,
                      "--set %s: a continued run keeps the configuration of its checkpoint; "
                      "with --continue only simulation.t_stop, simulation.checkpoint, "
                      "simulation.checkpoint_interval, simulation.spike_flush_interval and "
                      "simulation.report_flush_interval may be set",
                      a);
  }
  return CL_OK;
}

/* The value of long option arg (argv[*i], its name len characters long), given as "--name=VALUE"
 * or as the next argument (then *i moves to it); NULL when there is none. */
static const char *long_value(const char *arg, size_t len, int argc, char **argv, int *i) {
  if (arg[len] == '=')
    return arg + len + 1;
  return *i + 1 < argc ? argv[++*i] : NULL;
}

static int parse(int argc, char **argv, cl_cli *out) {
  int only_positional = 0;
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    const char *val = NULL;
    if (only_positional || arg[0] != '-' || strcmp(arg, "-") == 0) {
      if (out->config_path)
        return CL_ERROR(CL_ERR_USER,
                        "more than one configuration file (%s and %s); see condlif --help",
                        out->config_path, arg);
      out->config_path = arg;
      continue;
    }
    if (strcmp(arg, "--") == 0) {
      only_positional = 1;
      continue;
    }
    if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
      out->help = 1;
    } else if (strcmp(arg, "--version") == 0) {
      out->version = 1;
    } else if (strcmp(arg, "--check") == 0) {
      out->check = 1;
    } else if (strcmp(arg, "--force") == 0) {
      out->force = 1;
    } else if (strcmp(arg, "-q") == 0 || strcmp(arg, "--quiet") == 0) {
      out->quiet = 1;
    } else if (strcmp(arg, "--progress") == 0) {
      out->progress = 1;
    } else if (strcmp(arg, "-o") == 0 || strcmp(arg, "--output") == 0 ||
               strncmp(arg, "--output=", 9) == 0 || (strncmp(arg, "-o", 2) == 0 && arg[2])) {
      if (strncmp(arg, "--output=", 9) == 0)
        val = arg + 9;
      else if (arg[1] == 'o' && arg[2])
        val = arg + 2;
      else if (i + 1 < argc)
        val = argv[++i];
      else
        return CL_ERROR(CL_ERR_USER, "option %s needs a directory; see condlif --help", arg);
      if (!val[0])
        return CL_ERROR(CL_ERR_USER, "option %s needs a non-empty directory name",
                        arg[1] == 'o' ? "-o" : "--output");
      out->output = val;
    } else if (strcmp(arg, "--continue") == 0 || strncmp(arg, "--continue=", 11) == 0) {
      if (!(val = long_value(arg, 10, argc, argv, &i)))
        return CL_ERROR(CL_ERR_USER, "option --continue needs a run directory; see condlif --help");
      if (!val[0])
        return CL_ERROR(CL_ERR_USER, "option --continue needs a non-empty directory name");
      out->resume = val;
    } else if (strcmp(arg, "--set") == 0 || strncmp(arg, "--set=", 6) == 0) {
      if (!(val = long_value(arg, 5, argc, argv, &i)))
        return CL_ERROR(CL_ERR_USER, "option --set needs KEY=VALUE; see condlif --help");
      CL_CALL(check_assignment(val));
      cl_config_override *s = cl_realloc(out->sets, (out->n_sets + 1) * sizeof *s);
      CL_ALLOC_CHECK(s);
      out->sets = s;
      out->sets[out->n_sets++].assignment = val;
    } else {
      return unknown_option(arg);
    }
  }
  if (out->resume && !out->help && !out->version)
    return check_resume(out);
  if (!out->config_path && !out->help && !out->version)
    return CL_ERROR(CL_ERR_USER, "no configuration file given; usage: condlif [options] CONFIG "
                                 "(see condlif --help)");
  return CL_OK;
}

int cl_cli_parse(int argc, char **argv, cl_cli *out) {
  memset(out, 0, sizeof *out);
  int st = parse(argc, argv, out);
  if (st != CL_OK)
    cl_cli_destroy(out);
  return st;
}

void cl_cli_destroy(cl_cli *c) {
  if (!c)
    return;
  free(c->sets);
  memset(c, 0, sizeof *c);
}
