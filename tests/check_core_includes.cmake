# Fails when the sans-IO core (pandafly_core) reaches for I/O, threads, clocks,
# the file system or the CA/HDF5/ZMQ C APIs. Run by ctest as `core_is_sans_io`.
#
# What is checked follows the target, not a list kept by hand: SOURCES are the
# core target's own sources ($<TARGET_PROPERTY:pandafly_core,SOURCES>, joined
# with '|') and every project header they include, transitively — a quoted
# include (or <pandafly/...>) is resolved against the including file's folder
# and INCLUDE_DIRS (the target's include directories, '|'-joined). A new core
# source is checked without editing this file; a quoted include that resolves
# nowhere is an error too (it could hide anything). System and third-party
# headers (<...>) are matched against the forbidden list, not followed.
#
#   cmake -DROOT=<source dir> -DSOURCES="src/a.cpp|src/b.cpp" -DINCLUDE_DIRS="<dir>|..."
#         -P check_core_includes.cmake
# Relative SOURCES are relative to ROOT. tests/check_core_includes_test.cmake
# shows that this check fails on planted bad includes.
cmake_minimum_required(VERSION 3.25)
if(NOT DEFINED ROOT OR NOT DEFINED SOURCES OR NOT DEFINED INCLUDE_DIRS)
  message(FATAL_ERROR "check_core_includes: ROOT, SOURCES and INCLUDE_DIRS are required")
endif()
string(REPLACE "|" ";" sources "${SOURCES}")
string(REPLACE "|" ";" include_dirs "${INCLUDE_DIRS}")
# Only the project's own folders: headers found elsewhere (/usr/include, from
# linked targets) are third-party, matched by the list below but not followed.
list(FILTER include_dirs INCLUDE REGEX "^${ROOT}/")
if(NOT sources)
  message(FATAL_ERROR "check_core_includes: no sources given: nothing would be checked")
endif()

set(forbidden
  "#include[ \t]*<boost/asio"
  "#include[ \t]*<(thread|mutex|shared_mutex|condition_variable|future|semaphore|latch|barrier|stop_token|chrono|ctime|csignal|filesystem|fstream|iostream|cstdio)>"
  "#include[ \t]*<(stdio|time|signal|unistd|fcntl|poll|netdb|pthread|dirent)\\.h>"
  "#include[ \t]*<(sys|netinet|arpa|linux)/"
  "#include[ \t]*[<\"](zmq\\.h|zmq\\.hpp|hdf5\\.h|cadef\\.h)"
  "#include[ \t]*[<\"]pandafly/(ca|h5)/"
  "#include[ \t]*[<\"]pandafly/[a-z_]+/io/"
  "::now[ \t]*\\("
  "std::time[ \t]*\\("
  "[^a-z_]fopen[ \t]*\\(")

set(queue "")
foreach(s IN LISTS sources)
  if(NOT IS_ABSOLUTE "${s}")
    set(s "${ROOT}/${s}")
  endif()
  if(NOT EXISTS "${s}")
    message(FATAL_ERROR "check_core_includes: source ${s} does not exist")
  endif()
  get_filename_component(s "${s}" REALPATH)
  list(APPEND queue "${s}")
endforeach()
list(REMOVE_DUPLICATES queue)

set(seen "")
set(bad "")
while(queue)
  list(POP_FRONT queue f)
  if(f IN_LIST seen)
    continue()
  endif()
  list(APPEND seen "${f}")
  get_filename_component(here "${f}" DIRECTORY)
  file(STRINGS "${f}" lines)
  foreach(line IN LISTS lines)
    foreach(pat IN LISTS forbidden)
      if(line MATCHES "${pat}")
        string(APPEND bad "  ${f}: ${line}\n")
      endif()
    endforeach()
    # Project headers: "x.hpp" anywhere, <pandafly/...> too.
    # (one MATCHES per if(): a failed second MATCHES would clear CMAKE_MATCH_1)
    set(name "")
    if(line MATCHES "^[ \t]*#[ \t]*include[ \t]*\"([^\"]+)\"")
      set(name "${CMAKE_MATCH_1}")
    elseif(line MATCHES "^[ \t]*#[ \t]*include[ \t]*<(pandafly/[^>]+)>")
      set(name "${CMAKE_MATCH_1}")
    endif()
    if(name)
      set(found "")
      set(candidates "${here}" ${include_dirs})
      foreach(dir IN LISTS candidates)
        if(EXISTS "${dir}/${name}" AND NOT IS_DIRECTORY "${dir}/${name}")
          get_filename_component(found "${dir}/${name}" REALPATH)
          break()
        endif()
      endforeach()
      if(found)
        list(APPEND queue "${found}")
      else()
        string(APPEND bad "  ${f}: ${line}   (resolves to no file: cannot be checked)\n")
      endif()
    endif()
  endforeach()
endwhile()

list(LENGTH seen n)
if(bad)
  message(FATAL_ERROR "The sans-IO core uses I/O, threads or clocks (${n} files checked):\n${bad}")
endif()
message(STATUS "core_is_sans_io: ${n} core files checked (sources and the headers they include)")
