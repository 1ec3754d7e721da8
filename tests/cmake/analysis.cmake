# Tests of the analysis scripts (analysis/*.py, Debian's python3-numpy/h5py/matplotlib/libconf):
# on run directories with known content written by tests/analysis/fixtures.py, and, once the
# simulator exists, on a real condlif run.
set(CL_ANALYSIS_CHECK ${CMAKE_CURRENT_SOURCE_DIR}/analysis/check.py)
set(CL_ANALYSIS_WORK ${CMAKE_CURRENT_BINARY_DIR}/analysis)

foreach(case help io stats raster traces scaling connectivity)
  add_test(NAME analysis.${case}
           COMMAND ${CL_PYTHON} ${CL_ANALYSIS_CHECK} ${case} ${CL_ANALYSIS_WORK}/${case})
  set_tests_properties(analysis.${case} PROPERTIES LABELS analysis
                       ENVIRONMENT "MPLBACKEND=Agg;MPLCONFIGDIR=${CL_ANALYSIS_WORK}/mpl")
endforeach()

if(TARGET condlif)
  # condlif on tests/slurm/small.cfg at 2 ranks, then stats.py, raster.py and traces.py on it.
  cl_mpi_command(cl_analysis_mpi 2)
  add_test(NAME analysis.condlif
           COMMAND ${CL_PYTHON} ${CL_ANALYSIS_CHECK} condlif ${CL_ANALYSIS_WORK}/condlif
                   -- ${cl_analysis_mpi} $<TARGET_FILE:condlif> --quiet)
  set_tests_properties(analysis.condlif PROPERTIES LABELS "analysis;mpi" PROCESSORS 2
                       ENVIRONMENT "${CL_MPI_ENV};MPLBACKEND=Agg;MPLCONFIGDIR=${CL_ANALYSIS_WORK}/mpl")
endif()
