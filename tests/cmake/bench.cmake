# The COBA-alpha benchmark script (bench/run_benchmarks.py), condlif only, on N = 4000 at 1 and
# 2 ranks: its table, profile, CSV files and JSON against the runs it made.
if(TARGET condlif)
  add_test(NAME bench.run_benchmarks
           COMMAND ${CL_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/bench/check_bench.py
                   ${CMAKE_CURRENT_BINARY_DIR}/bench $<TARGET_FILE:condlif>)
  set_tests_properties(bench.run_benchmarks PROPERTIES LABELS "bench;mpi" PROCESSORS 2
                       ENVIRONMENT "${CL_MPI_ENV}")
endif()
