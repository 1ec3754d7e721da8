# Config tests through the executable (label "config"): condlif --check on every bad
# configuration of tests/config/bad exits with status 2 and prints "condlif: error: file:line:
# key...", the shipped configurations pass --check without warnings, and --check reports that
# the Brian2 forum weight cannot make n2 of the seed network fire.
# The collective load (rank 0 reads and broadcasts, every rank parses and agrees) at 2 and 3
# ranks: test_config checks that every rank gets the same configuration and the same errors.
foreach(np 2 3)
  cl_mpi_command(cl_mpi ${np})
  add_test(NAME config.mpi.test_config.${np} COMMAND ${cl_mpi} $<TARGET_FILE:test_config>)
  set_tests_properties(config.mpi.test_config.${np} PROPERTIES LABELS "mpi;config"
                       PROCESSORS ${np} ENVIRONMENT "${CL_MPI_ENV}")
endforeach()

if(TARGET condlif)
  set(CL_RUN_CONDLIF ${CMAKE_SOURCE_DIR}/tests/config/run_condlif.cmake)

  file(GLOB CL_BAD_CONFIGS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/config/bad/*.cfg)
  foreach(cfg ${CL_BAD_CONFIGS})
    get_filename_component(name ${cfg} NAME_WE)
    add_test(NAME config.bad.${name}
             COMMAND ${CMAKE_COMMAND} -DCONDLIF=$<TARGET_FILE:condlif> -DBAD=${cfg}
                     -P ${CL_RUN_CONDLIF})
    set_tests_properties(config.bad.${name} PROPERTIES LABELS "config;cli"
                                                       ENVIRONMENT "${CL_MPI_ENV}")
  endforeach()

  # cl_add_condlif_test(NAME STATUS ARGS <args...> EXPECT <texts...> [REJECT <texts...>])
  function(cl_add_condlif_test name status)
    cmake_parse_arguments(T "" "" "ARGS;EXPECT;REJECT" ${ARGN})
    # lists travel as text joined by "@@" (a ';' would split the -D arguments)
    string(JOIN "@@" args ${T_ARGS})
    string(JOIN "@@" expect ${T_EXPECT})
    string(JOIN "@@" reject ${T_REJECT})
    add_test(NAME ${name}
             COMMAND ${CMAKE_COMMAND} -DCONDLIF=$<TARGET_FILE:condlif> "-DARGS=${args}"
                     -DSTATUS=${status} "-DEXPECT=${expect}" "-DREJECT=${reject}"
                     -P ${CL_RUN_CONDLIF}
             WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
    set_tests_properties(${name} PROPERTIES LABELS config ENVIRONMENT "${CL_MPI_ENV}")
  endfunction()

  foreach(cfg config/seed_two_populations.cfg config/coba_alpha.cfg
              config/bench/coba_alpha_4000.cfg config/bench/coba_alpha_40000.cfg
              config/bench/coba_alpha_200000.cfg)
    get_filename_component(name ${cfg} NAME_WE)
    cl_add_condlif_test(config.check.${name} 0 ARGS --check ${cfg}
                        EXPECT "valid configuration" "0 warnings" REJECT "warning:")
  endforeach()
  cl_add_condlif_test(config.check.coba_alpha_report 0
    ARGS --check config/coba_alpha.cfg
    EXPECT "exc (cond_alpha, 3200 neurons" "inh (cond_alpha, 800 neurons"
           "tau_m = C_m/g_L = 20 ms" "synapses: 204800 expected (64 per target neuron)"
           "total: 320800 synapses expected" "D_min 10 steps (1 ms, shortest delay)"
           "exchanged every 0.5 ms (half of D_min, rounded up): 2000 exchanges")
  cl_add_condlif_test(config.check.seed_brian2_weight 0
    ARGS --check config/seed_two_populations.cfg
         --set "projections.n1->n2.weight=0.018393972058572117 nS"
    EXPECT "warning: n2 cannot reach threshold from this projection"
           "warning: projections.n1->n2: its target cannot reach threshold" "1 warning")
  cl_add_condlif_test(config.check.seed_shipped_weight 0
    ARGS --check config/seed_two_populations.cfg
    EXPECT "2 coincident inputs take n2 from rest to V_th" REJECT "cannot reach threshold")
  cl_add_condlif_test(config.set_error 2
    ARGS --check config/coba_alpha.cfg --set "populations.exc.g_L=10 mV"
    EXPECT "condlif: error: --set: populations.exc.g_L: got \"10 mV\"" "mV is a unit of voltage")
  cl_add_condlif_test(config.missing_file 2
    ARGS --check tests/config/no_such_file.cfg
    EXPECT "condlif: error: tests/config/no_such_file.cfg: cannot read the configuration")
  cl_add_condlif_test(config.cli_unknown_option 2
    ARGS --chek config/coba_alpha.cfg EXPECT "did you mean --check?")
  cl_add_condlif_test(config.cli_no_config 2 ARGS --check EXPECT "no configuration file")
  cl_add_condlif_test(config.check.checkpoint 0
    ARGS --check config/coba_alpha.cfg --set "simulation.checkpoint=\"end\""
    EXPECT "checkpoint -> runs/coba_alpha/checkpoint.h5 (187.8 KiB plus 16 B per spike in transit) at a stop by a signal and at the end")
  cl_add_condlif_test(config.check.checkpoint_interval 0
    ARGS --check config/coba_alpha.cfg --set "simulation.checkpoint_interval=30 min"
    EXPECT "at a stop by a signal and at the end, every 1800 s of wall-clock time while running")
  cl_add_condlif_test(config.bad.checkpoint_interval 2
    ARGS --check config/coba_alpha.cfg --set "simulation.checkpoint_interval=30 min"
         --set "simulation.checkpoint=\"never\""
    EXPECT "simulation.checkpoint_interval: got \"30 min\": expected 0 (none) with checkpoint = \"never\"")
  cl_add_condlif_test(config.bad.checkpoint 2
    ARGS --check config/coba_alpha.cfg --set "simulation.checkpoint=\"always\""
    EXPECT "simulation.checkpoint: got \"always\": expected one of \"stop\", \"end\", \"never\"")
  cl_add_condlif_test(config.bad.initial_state 2
    ARGS --check config/coba_alpha.cfg --set "simulation.initial_state=\"\""
    EXPECT "simulation.initial_state: got \"\": expected a run directory, or its checkpoint.h5 (non-empty string)")
  cl_add_condlif_test(config.initial_state_missing 2
    ARGS --check config/coba_alpha.cfg --set "simulation.initial_state=\"tests/config/no_such_run\""
    EXPECT "config/coba_alpha.cfg: simulation.initial_state: tests/config/no_such_run/checkpoint.h5: No such file or directory")
  cl_add_condlif_test(config.continue_no_checkpoint 2
    ARGS --continue tests/config/no_such_run
    EXPECT "cannot continue: tests/config/no_such_run/checkpoint.h5: No such file or directory")
endif()
