# Tests of slurm/ (label slurm): tests/slurm/run_test.sh starts a throwaway single-node SLURM
# cluster under the build tree (installing slurmctld, slurmd, slurm-client and munge with
# apt-get when missing and running as root), submits jobs, polls scontrol and stops the daemons
# by PID. Exit 77 = skipped: SLURM cannot be installed or started here (the message says why).
#   slurm.cluster  the cluster runs MPI batch jobs (mpirun, srun --mpi=pmix) and reports failures
#   slurm.fake     condlif.sbatch and strong_scaling.sh through SLURM with a stand-in condlif
#   slurm.local    strong_scaling.sh and weak_scaling.sh without SLURM (mpirun)
#   slurm.condlif  the real condlif through condlif.sbatch at 2 and 4 ranks, weak_scaling.sh,
#                  a job stopped by a signal
set(CL_SLURM_RUN ${CMAKE_CURRENT_SOURCE_DIR}/slurm/run_test.sh)
set(CL_SLURM_WORK ${CMAKE_CURRENT_BINARY_DIR}/slurm)

function(cl_slurm_test case)
  add_test(NAME slurm.${case}
           COMMAND bash ${CL_SLURM_RUN} ${case} ${CL_SLURM_WORK}/${case} ${ARGN})
  # One cluster at a time; every case finishes within run_test.sh's own limit (300 s).
  set_tests_properties(slurm.${case} PROPERTIES LABELS slurm SKIP_RETURN_CODE 77 TIMEOUT 420
                       PROCESSORS 2 RESOURCE_LOCK cl_slurm_cluster
                       ENVIRONMENT "${CL_MPI_ENV};MPLBACKEND=Agg;MPLCONFIGDIR=${CL_SLURM_WORK}/mpl")
endfunction()

cl_slurm_test(cluster)
cl_slurm_test(fake)
cl_slurm_test(local)
if(TARGET condlif)
  cl_slurm_test(condlif $<TARGET_FILE:condlif>)
endif()
