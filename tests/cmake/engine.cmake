# Distributed engine: identical results on 1-4 ranks, delivery semantics, P > N, no
# connections, activity of the default network. Each test runs condlif under mpiexec itself.
if(TARGET condlif)
  set(CL_ENGINE_DIR ${CMAKE_SOURCE_DIR}/tests/engine)
  set(CL_ENGINE_MPIEXEC "${MPIEXEC_EXECUTABLE} ${MPIEXEC_PREFLAGS} ${MPIEXEC_NUMPROC_FLAG}")
  function(cl_engine_test name script)
    add_test(NAME engine.${name}
             COMMAND ${CL_PYTHON} ${CL_ENGINE_DIR}/${script} --condlif $<TARGET_FILE:condlif>
                     --mpiexec "${CL_ENGINE_MPIEXEC}"
                     --workdir ${CMAKE_BINARY_DIR}/tests/engine/${name} ${ARGN})
    set_tests_properties(engine.${name} PROPERTIES LABELS "mpi;engine" PROCESSORS 4
                         ENVIRONMENT "${CL_MPI_ENV}")
  endfunction()
  # COBA-alpha N = 4000, 1 s: spikes identical at 1-4 ranks, sustained activity 5-30 Hz.
  # The last run stores a weight per synapse (exc->exc's drawn with sd 0: the same weights, no
  # weight table): the same spikes and traces again.
  cl_engine_test(identical.coba_alpha identical.py --rate exc 5 30 --rate inh 5 30
                 --min-spikes 10000 --also-set
                 "projections.exc->exc.weight={ distribution = \"normal\", mean = \"1.4715177646857693 nS\", sd = \"0 nS\" }"
                 ${CMAKE_SOURCE_DIR}/config/coba_alpha.cfg)
  # Gathered delivery (cl_synapses.gather), which the simulator chooses only where a rank's x
  # arrays outgrow the L2 cache, forced on the default network: the same spikes and traces as
  # the direct delivery at 1 and 3 ranks.
  cl_engine_test(identical.gather identical.py --ranks 1 3 --min-spikes 10000
                 --also-env CONDLIF_DELIVERY=gather
                 ${CMAKE_SOURCE_DIR}/config/coba_alpha.cfg)
  # The corrected seed network, 20 s: spikes and V, g_ex traces identical at 1-4 ranks.
  cl_engine_test(identical.seed identical.py --min-spikes 1000 --min-traces 10
                 ${CMAKE_SOURCE_DIR}/config/seed_two_populations.cfg)
  set_property(TEST engine.identical.seed APPEND PROPERTY LABELS long)
  # COBA-alpha N = 40 000, 800 ms: some 310 000 spikes through the exchange and the queue of
  # spikes in transit, and on 1 rank (5 MB of spikes) an early append of the output buffers
  # before the flush at the end; the spikes must be identical on 1 and 4 ranks.
  cl_engine_test(identical.coba_alpha_40000 identical.py --ranks 1 4 --min-spikes 250000
                 --set simulation.t_stop=800ms
                 ${CMAKE_SOURCE_DIR}/config/bench/coba_alpha_40000.cfg)
  # More than 64 ranks: destination sets of two words, sources that miss some ranks (80
  # targets over 66 ranks), so the exchange counts and packs per rank; the same spikes as on
  # 1 rank. 66 processes: not under the sanitizers (label long).
  cl_engine_test(identical.coba_alpha_66 identical.py --ranks 1 66 --min-spikes 5000
                 --set simulation.t_stop=100ms ${CMAKE_SOURCE_DIR}/config/coba_alpha.cfg)
  set_property(TEST engine.identical.coba_alpha_66 APPEND PROPERTY LABELS long)
  # A run stopped by SIGUSR1 (through mpiexec) at 1-4 ranks, and by SIGTERM: exit status 3,
  # output up to the stop, identical to the run to that time.
  cl_engine_test(stop check_stop.py ${CL_ENGINE_DIR}/stop.cfg)
  # A run continued from its checkpoint (written at the end, or at a stop by a signal), on
  # other rank counts, in one or more parts, from a checkpoint older than the files: the same
  # spikes, reports and counts as the run that never stopped; the errors of --continue.
  # Under the sanitizers (4 minutes in all) 2 -> 3 ranks, the stop, the kill and the errors.
  if(CONDLIF_SANITIZE)
    set(CL_CONTINUE_RANKS --ranks 2 3 --quick)
  endif()
  cl_engine_test(continue check_continue.py ${CL_CONTINUE_RANKS} --tiny ${CL_ENGINE_DIR}/tiny.cfg
                 ${CL_ENGINE_DIR}/continue.cfg)
  # A run started from another run's state (simulation.initial_state), on other rank counts:
  # with the first run, the spikes of the run that never stopped, its samples from there on;
  # its own stimuli; continued itself; --check and the errors.
  if(CONDLIF_SANITIZE)
    set(CL_FORK_RANKS --ranks 2 3 --quick)
  endif()
  cl_engine_test(fork check_fork.py ${CL_FORK_RANKS} ${CL_ENGINE_DIR}/fork.cfg)
  # Output flushes at most once per second of wall time (counted with strace), same spikes.
  cl_engine_test(flush check_flush.py ${CL_ENGINE_DIR}/stop.cfg)
  # edges.h5 at 1-4 ranks: the same bytes, every rule's synapses as configured, the SONATA layout.
  cl_engine_test(edges check_edges.py ${CL_ENGINE_DIR}/edges.cfg)
  # record_spikes naming neurons at 1-4 ranks: exactly their spikes, recorded_nodes, all counted.
  cl_engine_test(record_neurons check_record_neurons.py ${CMAKE_SOURCE_DIR}/config/coba_alpha.cfg)
  # Delays drawn from 0.5 to 5 ms: spikes wait in the queue of spikes in transit over several
  # slices and arrive in runs of one delay.
  cl_engine_test(identical.delays identical.py --min-spikes 5000 --min-traces 10
                 ${CL_ENGINE_DIR}/delays.cfg)
  # Weights drawn (each synapse keeps its own float weight: no weight table) and the
  # kick-start's delays drawn (one byte per synapse).
  cl_engine_test(identical.weights identical.py --min-spikes 5000 --min-traces 10
                 ${CL_ENGINE_DIR}/weights.cfg)
  cl_engine_test(identical.sources_first identical.py --min-spikes 5000
                 ${CL_ENGINE_DIR}/sources_first.cfg)
  cl_engine_test(more_ranks_than_neurons identical.py --ranks 1 4 --min-spikes 10
                 --min-traces 6 ${CL_ENGINE_DIR}/tiny.cfg)
  cl_engine_test(unconnected identical.py --ranks 1 4 --min-spikes 10 --min-traces 5
                 ${CL_ENGINE_DIR}/unconnected.cfg)
  # The excitatory and inhibitory populations stepped by one kernel call (on 3 ranks over the
  # padding between them) against one at a time: the same spikes.
  cl_engine_test(runs check_runs.py ${CMAKE_SOURCE_DIR}/config/coba_alpha.cfg)
  # Again with a weight drawn (sd 0): weights per synapse instead of the weight table.
  cl_engine_test(delivery check_delivery.py ${CL_ENGINE_DIR}/delivery.cfg --ranks 1 2 3 4
                 --also-set
                 "projections.src->t2.weight={ distribution = \"normal\", mean = \"2 nS\", sd = \"0 nS\" }")
endif()

# End to end against the shared high-precision references (scenarios B and C): config,
# stimuli, kernel, spike and report files; one neuron on 1 and 2 ranks.
if(TARGET condlif)
  foreach(s B C)
    string(TOLOWER ${s} lower)
    cl_engine_test(reference.${s} check_reference.py ${CL_ENGINE_DIR}/reference_${lower}.cfg
                   --trace ${CL_REFERENCE_DIR}/${s}_trace.csv
                   --spikes ${CL_REFERENCE_DIR}/${s}_spikes.txt --ranks 1 2)
  endforeach()
endif()
