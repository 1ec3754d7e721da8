/* The command line: condlif [options] CONFIG.
 *
 * Options: --help/-h, --version, --check, -o/--output DIR, --set key.path=value (repeatable),
 * --force, --quiet/-q, --progress, --continue DIR (instead of CONFIG). Long options also accept
 * --opt=value. */
#ifndef CONDLIF_CLI_H
#define CONDLIF_CLI_H

#include <stddef.h>
#include <stdio.h>

#include "condlif/config.h"

typedef struct {
  const char *config_path; /* the configuration file (points into argv); NULL with --help or
                              --version alone */
  const char *output;      /* -o/--output DIR or NULL (points into argv) */
  const char *resume;      /* --continue DIR or NULL (points into argv) */
  int check, force, quiet, progress, help, version;
  size_t n_sets;
  cl_config_override *sets; /* owned (cl_cli_destroy); each assignment points into argv */
} cl_cli;

/* Parses argv into *out. On bad usage (unknown option, missing argument, no configuration
 * file, more than one, malformed --set, --continue with a configuration file, -o, --force or a
 * --set of a key a continued run cannot change) returns CL_ERR_USER with a message recorded and
 * *out empty. With --help or --version no configuration file is needed. Not collective: every
 * rank parses the same argv. */
int cl_cli_parse(int argc, char **argv, cl_cli *out);

/* Prints the usage text. */
void cl_cli_usage(FILE *f);

/* Frees what c owns and zeroes it. */
void cl_cli_destroy(cl_cli *c);

#endif
