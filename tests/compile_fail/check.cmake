# One compile-fail test: builds TARGET in BINARY_DIR, which must fail, with
# compiler output matching EXPECTED and no longer than MAX_LINES lines.
#   cmake -DBINARY_DIR=... -DTARGET=... -DEXPECTED=<regex> -DMAX_LINES=30 -P check.cmake
#
# What is counted: the lines the compiler writes to stderr while compiling the
# program -- errors, notes, "In instantiation of" and "required from" context,
# source excerpts with their caret lines -- i.e. everything the user reads about
# the mistake. Not counted: the build tool's own lines (make's progress on stdout,
# and its "make[2]: *** [...] Error 1" / "gmake: ..." lines on stderr, and ninja's
# "FAILED:" line and the compiler command line it echoes).
cmake_minimum_required(VERSION 3.20)
foreach(v BINARY_DIR TARGET EXPECTED MAX_LINES)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "check.cmake: ${v} is not set")
  endif()
endforeach()

# A failed compile leaves no object file, so the build runs the compiler every time.
execute_process(
  COMMAND ${CMAKE_COMMAND} --build ${BINARY_DIR} --target ${TARGET}
  RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)

if(result EQUAL 0)
  message(FATAL_ERROR "${TARGET}: the mistaken program compiled; it must be rejected")
endif()

# The compiler's lines: stderr without the build tool's. Plain string operations,
# not CMake lists: compiler output is full of ';' and unbalanced '[', which lists mangle.
set(diagnostic "\n${err}\n")
string(REGEX REPLACE "\n(g?make(\\[[0-9]+\\])?: |FAILED: |ninja: )[^\n]*" "" diagnostic "${diagnostic}")
string(REGEX REPLACE "\n\n+" "\n" diagnostic "${diagnostic}")
string(REGEX REPLACE "^\n" "" diagnostic "${diagnostic}")
string(REGEX REPLACE "[^\n]" "" newlines "${diagnostic}")
string(LENGTH "${newlines}" count)  # every kept line ends with a newline

if(NOT diagnostic MATCHES "${EXPECTED}")
  message(FATAL_ERROR "${TARGET}: rejected, but without the expected message\n  expected: ${EXPECTED}\n"
                      "compiler output (${count} lines):\n${diagnostic}")
endif()
if(count GREATER MAX_LINES)
  message(FATAL_ERROR "${TARGET}: the diagnostic is ${count} lines of compiler output, more than ${MAX_LINES}:\n${diagnostic}")
endif()
message(STATUS "${TARGET}: rejected with the expected message in ${count} lines of compiler output (limit ${MAX_LINES})")
