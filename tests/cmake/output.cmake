# Output writer at 1, 2, 3 and 4 ranks. For each rank count N, in its own directory under the
# build tree (output/npN):
#   output.clean.npN        removes what an earlier ctest run left there
#   output.write.npN        test_output writes the synthetic run (and checks the API) under mpiexec
#   output.check.npN        check_output.py reads it back: layout, dtypes, attributes, the spike
#                           set, report values per node id, metadata; h5dump -H on every file
#   output.abort.npN        the same run, killed by MPI_Abort after a flush (must fail) ...
#   output.check_abort.npN  ... and what was flushed is readable, without the completed marker
# and output.compare checks that the runs at 1-4 ranks hold the same data.
set(CL_OUTPUT_TEST_ROOT ${CMAKE_CURRENT_BINARY_DIR}/output)
set(CL_OUTPUT_CHECK ${CMAKE_CURRENT_SOURCE_DIR}/output/check_output.py)
set(cl_output_runs "")
set(cl_output_fixtures "")
foreach(N 1 2 3 4)
  set(base ${CL_OUTPUT_TEST_ROOT}/np${N})
  cl_mpi_command(cmd ${N})

  add_test(NAME output.clean.np${N}
           COMMAND ${CMAKE_COMMAND} -E rm -rf ${base}/write ${base}/abort)
  set_tests_properties(output.clean.np${N} PROPERTIES FIXTURES_SETUP output_clean_np${N}
                                                      LABELS output)

  add_test(NAME output.write.np${N} COMMAND ${cmd} $<TARGET_FILE:test_output> write ${base}/write)
  set_tests_properties(output.write.np${N} PROPERTIES
                       ENVIRONMENT "${CL_MPI_ENV}" PROCESSORS ${N} LABELS "mpi;output"
                       FIXTURES_REQUIRED output_clean_np${N} FIXTURES_SETUP output_run_np${N})
  add_test(NAME output.check.np${N}
           COMMAND ${CL_PYTHON} ${CL_OUTPUT_CHECK} run ${base}/write/run ${N})
  set_tests_properties(output.check.np${N} PROPERTIES FIXTURES_REQUIRED output_run_np${N}
                                                      LABELS output)

  add_test(NAME output.abort.np${N} COMMAND ${cmd} $<TARGET_FILE:test_output> abort ${base}/abort)
  set_tests_properties(output.abort.np${N} PROPERTIES
                       ENVIRONMENT "${CL_MPI_ENV}" PROCESSORS ${N} LABELS "mpi;output"
                       WILL_FAIL TRUE
                       FIXTURES_REQUIRED output_clean_np${N} FIXTURES_SETUP output_abort_np${N})
  add_test(NAME output.check_abort.np${N}
           COMMAND ${CL_PYTHON} ${CL_OUTPUT_CHECK} aborted ${base}/abort/run ${N})
  set_tests_properties(output.check_abort.np${N} PROPERTIES
                       FIXTURES_REQUIRED output_abort_np${N} LABELS output)

  list(APPEND cl_output_runs ${base}/write/run)
  list(APPEND cl_output_fixtures output_run_np${N})
endforeach()
add_test(NAME output.compare COMMAND ${CL_PYTHON} ${CL_OUTPUT_CHECK} compare ${cl_output_runs})
set_tests_properties(output.compare PROPERTIES FIXTURES_REQUIRED "${cl_output_fixtures}"
                                               LABELS output)
