/* cli: options, --set collection, and every kind of bad usage. */
#include "condlif/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "condlif/error.h"

#include "check.h"

#define ARGV(...) ((char *[]){"condlif", __VA_ARGS__, NULL})
#define ARGC(...) ((int)(sizeof((char *[]){"condlif", __VA_ARGS__}) / sizeof(char *)))
#define PARSE(cli, ...)                                                                            \
  (cl_error_clear(), cl_cli_parse(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), (cli)))

/* Parsing must fail with a user error mentioning part, and leave the struct empty. */
static void bad(int argc, char **argv, const char *part, int line) {
  cl_cli c;
  cl_error_clear();
  int st = cl_cli_parse(argc, argv, &c);
  if (st != CL_ERR_USER || !strstr(cl_error_message(), part) || c.sets || c.config_path) {
    fprintf(stderr, "%s:%d: status %d, message \"%s\", want a user error with \"%s\"\n", __FILE__,
            line, st, cl_error_message(), part);
    failures++;
  }
}
#define BAD(part, ...) bad(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), (part), __LINE__)

int main(void) {
  cl_cli c;
  CHECK(PARSE(&c, "net.cfg") == CL_OK);
  CHECK(strcmp(c.config_path, "net.cfg") == 0 && !c.output && !c.check && !c.force);
  CHECK(!c.quiet && !c.progress && !c.help && !c.version && c.n_sets == 0);
  cl_cli_destroy(&c);

  CHECK(PARSE(&c, "--check", "-o", "runs/a", "--set", "simulation.t_stop=200 ms", "net.cfg",
              "--force", "-q", "--progress", "--set=populations.exc.C_m=250") == CL_OK);
  CHECK(c.check && c.force && c.quiet && c.progress && strcmp(c.output, "runs/a") == 0);
  CHECK(c.n_sets == 2 && strcmp(c.sets[0].assignment, "simulation.t_stop=200 ms") == 0);
  CHECK(strcmp(c.sets[1].assignment, "populations.exc.C_m=250") == 0);
  CHECK(strcmp(c.config_path, "net.cfg") == 0);
  cl_cli_destroy(&c);
  CHECK(c.sets == NULL && c.n_sets == 0);

  CHECK(PARSE(&c, "--output=out", "--quiet", "x.cfg") == CL_OK);
  CHECK(strcmp(c.output, "out") == 0 && c.quiet);
  cl_cli_destroy(&c);
  CHECK(PARSE(&c, "-oout2", "x.cfg") == CL_OK && strcmp(c.output, "out2") == 0);
  cl_cli_destroy(&c);
  CHECK(PARSE(&c, "--", "-strange.cfg") == CL_OK && strcmp(c.config_path, "-strange.cfg") == 0);
  cl_cli_destroy(&c);
  /* a value may hold '=' and spaces; a list element may be named source->target */
  CHECK(PARSE(&c, "--set", "projections.exc->inh.weight={ distribution = \"uniform\"; }", "a") ==
        CL_OK);
  CHECK(c.n_sets == 1);
  cl_cli_destroy(&c);

  /* --help and --version need no configuration */
  CHECK(PARSE(&c, "--help") == CL_OK && c.help && !c.config_path);
  cl_cli_destroy(&c);
  CHECK(PARSE(&c, "-h") == CL_OK && c.help);
  cl_cli_destroy(&c);
  CHECK(PARSE(&c, "--version") == CL_OK && c.version);
  cl_cli_destroy(&c);

  /* --continue DIR: no configuration file, -o or --force; only some simulation keys */
  CHECK(PARSE(&c, "--continue", "runs/a", "--set", "simulation.t_stop=2 s", "--set",
              " simulation.checkpoint =\"end\"", "-q") == CL_OK);
  CHECK(strcmp(c.resume, "runs/a") == 0 && !c.config_path && c.n_sets == 2 && c.quiet);
  cl_cli_destroy(&c);
  CHECK(PARSE(&c, "--continue=runs/b", "--set", "simulation.spike_flush_interval=1 s", "--set",
              "simulation.report_flush_interval=1 s") == CL_OK);
  CHECK(strcmp(c.resume, "runs/b") == 0);
  cl_cli_destroy(&c);
  BAD("give no configuration file (a.cfg)", "--continue", "runs/a", "a.cfg");
  BAD("-o/--output does not apply", "--continue", "runs/a", "-o", "x");
  BAD("--force does not apply", "--continue", "runs/a", "--force");
  BAD("--set populations.exc.C_m=250: a continued run keeps the configuration", "--continue",
      "runs/a", "--set", "populations.exc.C_m=250");
  BAD("--set simulation.dt=0.05: a continued run keeps", "--continue", "runs/a", "--set",
      "simulation.dt=0.05");
  BAD("--set simulation.t_stopp=5: a continued run keeps", "--continue", "runs/a", "--set",
      "simulation.t_stopp=5");
  BAD("option --continue needs a run directory", "--continue");
  BAD("option --continue needs a non-empty directory name", "--continue=");

  BAD("no configuration file", "--check");
  BAD("more than one configuration file (a.cfg and b.cfg)", "a.cfg", "b.cfg");
  BAD("unknown option --chek (did you mean --check?)", "--chek", "a.cfg");
  BAD("unknown option --forse (did you mean --force?)", "--forse", "a.cfg");
  BAD("unknown option -x", "-x", "a.cfg");
  BAD("unknown option --verbose", "--verbose", "a.cfg");
  BAD("option -o needs a directory", "a.cfg", "-o");
  BAD("option --output needs a non-empty", "a.cfg", "--output=");
  BAD("option --set needs KEY=VALUE", "a.cfg", "--set");
  BAD("--set simulation.t_stop: expected KEY=VALUE", "a.cfg", "--set", "simulation.t_stop");
  BAD("the key before '=' is empty", "a.cfg", "--set", "=5");
  BAD("names separated by single dots", "a.cfg", "--set", "simulation..dt=5");
  BAD("names separated by single dots", "a.cfg", "--set", ".dt=5");
  BAD("names separated by single dots", "a.cfg", "--set", "simulation.=5");
  BAD("option --check takes no value", "--check=1", "a.cfg");

  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  cl_cli_usage(f);
  fclose(f);
  const char *opts[] = {"--help",  "--version",  "--check", "--output", "--set", "--force",
                        "--quiet", "--progress", "-o",      "-q",       "-h",    "--continue"};
  for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
    CHECK(strstr(buf, opts[i]) != NULL);
  free(buf);
  if (failures)
    fprintf(stderr, "test_cli: %d check(s) failed\n", failures);
  return failures != 0;
}
