# Script mode (cmake -P), run after a test binary is built (TestSuites.cmake): writes OUTPUT, the
# CTest declarations of EXECUTABLE's tests labelled LABEL, one CTest test per GoogleTest suite
# (GROUP_BY suite: "cpu:OpSuite") or per source folder (GROUP_BY folder: "unit:results", every
# suite whose tests are in src/mlspeed/results/).
cmake_minimum_required(VERSION 3.22)

set(listing_file "${OUTPUT}.json")
execute_process(COMMAND "${EXECUTABLE}" --gtest_list_tests "--gtest_output=json:${listing_file}"
                OUTPUT_VARIABLE listing ERROR_VARIABLE errors RESULT_VARIABLE status TIMEOUT 120)
if(NOT status EQUAL 0 OR NOT EXISTS "${listing_file}")
  file(REMOVE "${OUTPUT}")
  message(FATAL_ERROR "${EXECUTABLE} --gtest_list_tests failed (${status}):\n${listing}${errors}")
endif()
file(READ "${listing_file}" json)
file(REMOVE "${listing_file}")

# group name -> the suites in it, as a GoogleTest filter ("A.*:B.*")
set(groups "")
string(JSON suite_count LENGTH "${json}" testsuites)
math(EXPR last "${suite_count} - 1")
foreach(i RANGE ${last})
  string(JSON suite GET "${json}" testsuites ${i} name)
  if(GROUP_BY STREQUAL "folder")
    string(JSON source GET "${json}" testsuites ${i} testsuite 0 file)
    get_filename_component(folder "${source}" DIRECTORY)
    get_filename_component(group "${folder}" NAME)
  else()
    set(group "${suite}")
  endif()
  string(MAKE_C_IDENTIFIER "${group}" key)
  if(NOT DEFINED filter_${key})
    list(APPEND groups "${group}")
    set(filter_${key} "${suite}.*")
  else()
    string(APPEND filter_${key} ":${suite}.*")
  endif()
endforeach()

string(REPLACE "|" ";" environment "${ENVIRONMENT}")
set(script "")
foreach(group IN LISTS groups)
  string(MAKE_C_IDENTIFIER "${group}" key)
  set(name "${LABEL}:${group}")
  string(APPEND script
    "add_test([==[${name}]==] [==[${EXECUTABLE}]==] [==[--gtest_filter=${filter_${key}}]==] --gtest_brief=1 --gtest_color=no)\n"
    # 77: every test of the group skipped itself (src/testing/test_main.cpp), e.g. no GPU here.
    "set_tests_properties([==[${name}]==] PROPERTIES LABELS ${LABEL} ENVIRONMENT \"${environment}\"\n"
    "  SKIP_RETURN_CODE 77)\n")
endforeach()
file(WRITE "${OUTPUT}" "${script}")
