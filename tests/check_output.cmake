# Runs a program and checks what it prints, for tests that must look at numbers or
# at the reason of a failure (CTest's own PASS_REGULAR_EXPRESSION can do neither):
#   cmake -DCOMMAND=prog [-DARGUMENT=arg] [-DEXPECT_FAILURE=ON] [-DMATCH=<regex>]
#         "-DNUMBER_1=<regex with one (number) group> >= <bound>" "-DNUMBER_2=<regex> <= <bound>" ... -P check_output.cmake
# EXPECT_FAILURE: the program must exit non-zero (and MATCH then says why it failed).
# MATCH: its output (stdout and stderr together) must match. NUMBER_k (k = 1, 2, ...,
# one variable each: a regex may hold ';'): the regex must match, and the number its
# group captures must satisfy the comparison.
cmake_minimum_required(VERSION 3.20)
if(NOT DEFINED COMMAND)
  message(FATAL_ERROR "check_output.cmake: COMMAND is not set")
endif()
execute_process(COMMAND ${COMMAND} ${ARGUMENT} RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
set(output "${out}${err}")
message(STATUS "output:\n${output}")

if(EXPECT_FAILURE)
  if(result EQUAL 0)
    message(FATAL_ERROR "the program succeeded; it must fail")
  endif()
elseif(NOT result EQUAL 0)
  message(FATAL_ERROR "the program failed (${result})")
endif()
if(DEFINED MATCH AND NOT output MATCHES "${MATCH}")
  message(FATAL_ERROR "the output does not match: ${MATCH}")
endif()
foreach(k RANGE 1 100)
  if(NOT DEFINED NUMBER_${k})
    break()
  endif()
  set(check "${NUMBER_${k}}")
  if(NOT check MATCHES "^(.+) (>=|<=) ([-+0-9.eE]+)$")
    message(FATAL_ERROR "check_output.cmake: cannot read the check '${check}'")
  endif()
  set(regex "${CMAKE_MATCH_1}")
  set(op "${CMAKE_MATCH_2}")
  set(bound "${CMAKE_MATCH_3}")
  if(NOT output MATCHES "${regex}")
    message(FATAL_ERROR "no line matches ${regex}")
  endif()
  set(value "${CMAKE_MATCH_1}")
  # CMake compares numbers as doubles in LESS/GREATER (decimal strings included).
  if((op STREQUAL ">=" AND value LESS bound) OR (op STREQUAL "<=" AND value GREATER bound))
    message(FATAL_ERROR "${regex}: ${value} is not ${op} ${bound}")
  endif()
  message(STATUS "${regex}: ${value} ${op} ${bound}")
endforeach()
