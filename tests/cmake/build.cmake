# The build: the git commit that --version prints and the run metadata records is the source
# tree's at build time (scripts/git_commit.cmake), not at configure time.
if(TARGET condlif)
  add_test(NAME build.git_commit
           COMMAND ${CL_PYTHON} ${CMAKE_SOURCE_DIR}/tests/build/check_git_commit.py
                   --cmake ${CMAKE_COMMAND} --source ${CMAKE_SOURCE_DIR}
                   --condlif $<TARGET_FILE:condlif>
                   --workdir ${CMAKE_CURRENT_BINARY_DIR}/build_git_commit)
  set_tests_properties(build.git_commit PROPERTIES LABELS build ENVIRONMENT "${CL_MPI_ENV}")
endif()
