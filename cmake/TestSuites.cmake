# One CTest test per GoogleTest suite, or per source folder, rather than one per test
# (gtest_discover_tests): each test process loads LibTorch, which costs 0.6-1.3 s before a test
# starts, and most tests take a fraction of that. A group runs its tests in one process; a failure
# prints the failing tests by name (GoogleTest's summary), and `ctest -R` selects groups
# ("cpu:OpSuite", "unit:results").
#
#   mlspeed_add_test_suites(<target> <label> [GROUP_BY suite|folder] [ENVIRONMENT VAR=value...])
#
# The suites are listed after each build of <target> (`<target> --gtest_list_tests`, as
# gtest_discover_tests does), so a new suite needs no CMake change.
set(MLSPEED_WRITE_SUITE_TESTS ${CMAKE_CURRENT_LIST_DIR}/write_suite_tests.cmake)

function(mlspeed_add_test_suites target label)
  cmake_parse_arguments(PARSE_ARGV 2 arg "" "GROUP_BY" "ENVIRONMENT")
  if(NOT arg_GROUP_BY)
    set(arg_GROUP_BY suite)
  endif()
  set(suites_file "${CMAKE_CURRENT_BINARY_DIR}/${target}_suites.cmake")
  set(include_file "${CMAKE_CURRENT_BINARY_DIR}/${target}_include.cmake")
  # The list travels to the script joined by '|' (a ';' would split the command's argument).
  string(REPLACE ";" "|" environment "${arg_ENVIRONMENT}")
  add_custom_command(TARGET ${target} POST_BUILD
    COMMAND ${CMAKE_COMMAND} -D "EXECUTABLE=$<TARGET_FILE:${target}>" -D "LABEL=${label}" -D "GROUP_BY=${arg_GROUP_BY}"
            -D "ENVIRONMENT=${environment}" -D "OUTPUT=${suites_file}" -P ${MLSPEED_WRITE_SUITE_TESTS}
    BYPRODUCTS ${suites_file}
    VERBATIM)
  # Before the first build the suites are unknown: one test that says what to do.
  file(WRITE ${include_file}
    "if(EXISTS \"${suites_file}\")\n"
    "  include(\"${suites_file}\")\n"
    "else()\n"
    "  add_test(${label}:NOT_BUILT ${CMAKE_COMMAND} -E echo \"${target} is not built: run ./test.sh, or cmake --build ${CMAKE_BINARY_DIR} first\")\n"
    "  set_tests_properties(${label}:NOT_BUILT PROPERTIES LABELS ${label} WILL_FAIL TRUE)\n"
    "endif()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${include_file})
endfunction()
