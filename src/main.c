/* condlif: simulate a network of conductance-based LIF neurons described in a config file.
 *   mpirun -n 64 condlif net.cfg
 *   mpirun -n 64 condlif --continue RUNDIR     (from its checkpoint) */
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "condlif/check.h"
#include "condlif/checkpoint.h"
#include "condlif/cli.h"
#include "condlif/config.h"
#include "condlif/error.h"
#include "condlif/sim.h"
#include "condlif/version.h"

/* simulation.initial_state: the checkpoint it names must be readable, hold the same network
 * (cl_config_same_network) and be at a time before t_stop; sets cfg->sim.initial_t.
 * Collective. */
static int check_initial_state(cl_config *cfg) {
  char path[CL_PATH_MAX + 32];
  cl_checkpoint_path(cfg->sim.initial_state, path, sizeof path);
  char *given = NULL, *resolved = NULL;
  int64_t step = 0;
  char what[CL_PATH_MAX + 64];
  snprintf(what, sizeof what, "%s: simulation.initial_state", cfg->path);
  int status = cl_checkpoint_read_config(path, what, &given, &resolved, &step, MPI_COMM_WORLD);
  cl_config base;
  if (status == CL_OK)
    status = cl_config_parse_all(path, resolved, NULL, 0, 0, &base);
  if (status == CL_OK) {
    status = cl_config_same_network(cfg, &base, path);
    cfg->sim.initial_t = (double)step * cfg->sim.dt;
    if (status == CL_OK && step >= (int64_t)llround(cfg->sim.t_stop / cfg->sim.dt))
      status = CL_ERROR(CL_ERR_USER,
                        "%s: simulation.t_stop = %.10g ms is not after the time of the initial "
                        "state (%s, t = %.10g ms)",
                        cfg->path, cfg->sim.t_stop, path, cfg->sim.initial_t);
    cl_config_destroy(&base);
  }
  free(given);
  free(resolved);
  return status;
}

static int run(int argc, char **argv, int rank, int size) {
  cl_cli cli;
  int status = cl_cli_parse(argc, argv, &cli);
  if (status != CL_OK) {
    if (rank == 0) {
      fprintf(stderr, "condlif: error: %s\n", cl_error_message());
      fprintf(stderr, "Try 'condlif --help'.\n");
    }
    return status;
  }
  if (cli.help || cli.version) {
    if (rank == 0 && cli.help)
      cl_cli_usage(stdout);
    else if (rank == 0)
      printf("condlif %s (commit %s)\n", CL_VERSION_STRING, cl_git_commit);
    cl_cli_destroy(&cli);
    return CL_OK;
  }
  cl_config cfg;
  char *given = NULL, *resolved = NULL;
  if (cli.resume) {
    /* the configuration of the checkpoint, resolved (every default as it was), and the run
     * directory it lies in */
    char path[CL_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/%s", cli.resume, CL_CHECKPOINT_FILE);
    status =
        cl_checkpoint_read_config(path, "cannot continue", &given, &resolved, NULL, MPI_COMM_WORLD);
    if (status == CL_OK)
      status = cl_config_parse_all(path, resolved, cli.sets, cli.n_sets, rank == 0, &cfg);
    if (status == CL_OK)
      snprintf(cfg.sim.output, sizeof cfg.sim.output, "%s", cli.resume);
  } else {
    status = cl_config_load(cli.config_path, cli.sets, cli.n_sets, rank == 0, &cfg);
  }
  if (status == CL_OK && !cli.resume && cfg.sim.initial_state[0]) {
    status = check_initial_state(&cfg);
    if (status != CL_OK)
      cl_config_destroy(&cfg);
  }
  if (status == CL_OK) {
    if (cli.output)
      snprintf(cfg.sim.output, sizeof cfg.sim.output, "%s", cli.output);
    if (cli.check) {
      if (rank == 0)
        cl_check_print(stdout, &cfg, size);
    } else {
      cl_sim_options opt = {.force = cli.force,
                            .quiet = cli.quiet,
                            .progress = cli.progress || (!cli.quiet && isatty(STDERR_FILENO)),
                            .resume = cli.resume,
                            .config_text = given};
      status = cl_sim_run(&cfg, &opt, MPI_COMM_WORLD, stdout);
    }
    cl_config_destroy(&cfg);
  }
  free(given);
  free(resolved);
  cl_error_report(MPI_COMM_WORLD, status);
  cl_cli_destroy(&cli);
  return status;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int status = run(argc, argv, rank, size);
  MPI_Finalize();
  return cl_error_exit_code(status);
}
