# Shows that check_core_includes.cmake can fail: it runs the check on a small
# tree written here (WORK), first clean (must pass, counting the headers it
# reached), then with each kind of forbidden include planted (must fail and
# name every planted line), including ones reached only through headers.
# Run by ctest as `core_is_sans_io_check_fails`.
#   cmake -DCHECK=<check_core_includes.cmake> -DWORK=<scratch dir> -P check_core_includes_test.cmake
cmake_minimum_required(VERSION 3.25)
file(REMOVE_RECURSE "${WORK}")
set(inc "${WORK}/include")

function(write path text)
  file(WRITE "${WORK}/${path}" "${text}\n")
endfunction()

function(run_check sources out_rc out_text)
  execute_process(
    COMMAND ${CMAKE_COMMAND} -DROOT=${WORK} "-DSOURCES=${sources}" "-DINCLUDE_DIRS=${inc}"
            -P ${CHECK}
    RESULT_VARIABLE rc OUTPUT_VARIABLE o ERROR_VARIABLE e)
  set(${out_rc} "${rc}" PARENT_SCOPE)
  set(${out_text} "${o}${e}" PARENT_SCOPE)
endfunction()

# A clean core: a source, a header beside it, a header under include/ that
# includes another one.
write(include/pandafly/panda/fine.hpp "#pragma once\n#include <vector>\n#include \"pandafly/panda/deep.hpp\"")
write(include/pandafly/panda/deep.hpp "#pragma once\n#include <string>")
write(src/panda/local.hpp "#pragma once\n#include <span>")
write(src/panda/good.cpp "#include \"pandafly/panda/fine.hpp\"\n#include \"local.hpp\"\nint f() { return 1; }")
run_check("src/panda/good.cpp" rc text)
if(NOT rc EQUAL 0 OR NOT text MATCHES "4 core files checked")
  message(FATAL_ERROR "the check should pass on the clean tree (4 files) (rc ${rc}):\n${text}")
endif()

# Planted: an Asio client header reached two headers deep, <filesystem>, <ctime>,
# a clock call, a quoted include that resolves nowhere, <thread> in a header.
write(include/pandafly/panda/io/client.hpp "#pragma once\n#include <boost/asio/ip/tcp.hpp>")
write(include/pandafly/panda/deep.hpp "#pragma once\n#include <string>\n#include \"pandafly/panda/io/client.hpp\"")
write(src/panda/fs.cpp "#include <filesystem>\nint g() { return 2; }")
write(src/panda/clock.cpp "#include <ctime>\nlong h() { return std::chrono::steady_clock::now().time_since_epoch().count(); }")
write(src/panda/lost.cpp "#include \"no/such/header.hpp\"")
write(src/panda/local.hpp "#pragma once\n#include <span>\n#include <thread>")
run_check("src/panda/good.cpp|src/panda/fs.cpp|${WORK}/src/panda/clock.cpp|src/panda/lost.cpp" rc text)
if(rc EQUAL 0)
  message(FATAL_ERROR "the check passed a tree with planted forbidden includes:\n${text}")
endif()
foreach(expected
    "deep.hpp: #include \"pandafly/panda/io/client.hpp\""
    "io/client.hpp: #include <boost/asio/ip/tcp.hpp>"
    "fs.cpp: #include <filesystem>"
    "clock.cpp: #include <ctime>"
    "clock.cpp: long h\\(\\) { return std::chrono::steady_clock::now\\(\\)"
    "lost.cpp: #include \"no/such/header.hpp\"   \\(resolves to no file"
    "local.hpp: #include <thread>"
    "\\(8 files checked\\)")
  if(NOT text MATCHES "${expected}")
    message(FATAL_ERROR "the check's failure does not name '${expected}':\n${text}")
  endif()
endforeach()

# No sources at all is an error, not a pass.
run_check("" rc text)
if(rc EQUAL 0)
  message(FATAL_ERROR "the check passed with no sources:\n${text}")
endif()
message(STATUS "check_core_includes: passes the clean tree, fails on every planted include")
