/* error: messages, traces, exit codes and collective agreement (one rank). */
#include "condlif/error.h"

#include <stdio.h>
#include <string.h>

#include "check.h"

static int inner(void) {
  return CL_ERROR(CL_ERR_USER, "net.cfg:%d: %s: bad", 12, "sim.dt");
}
static int outer(void) {
  CL_CALL(inner());
  return CL_OK;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  CHECK(outer() == CL_ERR_USER);
  CHECK(strcmp(cl_error_message(), "net.cfg:12: sim.dt: bad") == 0);
  CHECK(strstr(cl_error_where(), "from outer") != NULL);
  CHECK(cl_error_exit_code(CL_OK) == 0);
  CHECK(cl_error_exit_code(CL_ERR_USER) == 2);
  CHECK(cl_error_exit_code(CL_ERR_IO) == 1);
  CHECK(cl_error_agree(MPI_COMM_WORLD, CL_OK) == CL_OK);
  CHECK(cl_error_agree(MPI_COMM_WORLD, CL_ERR_IO) == CL_ERR_IO);
  cl_error_clear();
  CHECK(cl_error_message()[0] == '\0');
  MPI_Finalize();
  if (failures)
    fprintf(stderr, "test_error: %d check(s) failed\n", failures);
  return failures != 0;
}
