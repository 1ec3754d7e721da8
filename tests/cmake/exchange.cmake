# The spike exchange at 2-4 ranks (tests/unit/test_exchange.c, which also runs at 1 rank as
# unit.test_exchange): the fixed blocks, their overflow, the agreed capacity, the overlap.
foreach(np 2 3 4)
  cl_mpi_command(cmd ${np})
  add_test(NAME mpi.exchange.${np} COMMAND ${cmd} $<TARGET_FILE:test_exchange>)
  set_tests_properties(mpi.exchange.${np} PROPERTIES LABELS "mpi;unit" PROCESSORS ${np} TIMEOUT 300
                       ENVIRONMENT "${CL_MPI_ENV}")
endforeach()

# edges.h5 at 2-4 ranks (tests/unit/test_edges.c, also unit.test_edges at 1 rank): the rows of
# every recorded projection, in the generator's order, at any round size.
foreach(np 2 3 4)
  cl_mpi_command(cmd ${np})
  add_test(NAME mpi.edges.${np}
           COMMAND ${cmd} $<TARGET_FILE:test_edges> ${CMAKE_CURRENT_BINARY_DIR}/edges_out)
  set_tests_properties(mpi.edges.${np} PROPERTIES LABELS "mpi;unit" PROCESSORS ${np}
                       ENVIRONMENT "${CL_MPI_ENV}")
endforeach()
