# Fails when a file of the sans-IO core (pandafly_core) includes an I/O, thread
# or clock facility or the CA/HDF5/ZMQ C APIs, or calls a clock's now().
# Run by ctest as `core_is_sans_io`. The core is every header and source of the
# core modules below (include/pandafly/<m>/ and src/<m>/) except their io/
# subfolders. The h5, capture-writer and util-threading code is I/O tier by
# design and lives outside these folders; a module that joins the core is added
# to this list.
set(core_modules panda)
# Core files of modules that also hold I/O-tier code (capture: the sans-IO
# ADZMQ decoder next to the threaded writers).
set(core_extra_files
  include/pandafly/capture/adzmq.hpp
  src/capture/adzmq.cpp
  src/capture/adzmq_text.hpp
  src/capture/adzmq_text.cpp
  include/pandafly/dx/layout.hpp
  src/dx/layout.cpp
  src/dx/layout_print.cpp
  include/pandafly/dx/xdi.hpp
  src/dx/xdi.cpp
  src/dx/xdi_parse.cpp
  include/pandafly/dx/metadata.hpp
  src/dx/metadata.cpp)
set(core_globs "")
foreach(m IN LISTS core_modules)
  list(APPEND core_globs ${ROOT}/include/pandafly/${m}/*.hpp ${ROOT}/src/${m}/*.cpp ${ROOT}/src/${m}/*.hpp)
endforeach()
file(GLOB_RECURSE core_files ${core_globs})
foreach(f IN LISTS core_extra_files)
  if(NOT EXISTS ${ROOT}/${f})
    message(FATAL_ERROR "core file ${ROOT}/${f} is listed but missing")
  endif()
  list(APPEND core_files ${ROOT}/${f})
endforeach()
set(forbidden
  "#include[ \t]*<boost/asio"
  "#include[ \t]*<(thread|mutex|condition_variable|future|chrono|fstream|iostream|cstdio|stdio\\.h)>"
  "#include[ \t]*<(sys/socket|netinet/in|arpa/inet|poll|unistd|netdb)\\.h>"
  "#include[ \t]*[<\"](zmq\\.h|zmq\\.hpp|hdf5\\.h|cadef\\.h)"
  "#include[ \t]*\"pandafly/ca/"
  "::now\\(")
set(bad "")
foreach(f IN LISTS core_files)
  if(f MATCHES "/io/")
    continue()
  endif()
  file(STRINGS ${f} lines)
  foreach(line IN LISTS lines)
    foreach(pat IN LISTS forbidden)
      if(line MATCHES "${pat}")
        string(APPEND bad "  ${f}: ${line}\n")
      endif()
    endforeach()
  endforeach()
endforeach()
if(bad)
  message(FATAL_ERROR "The sans-IO core uses I/O, threads or clocks:\n${bad}")
endif()
list(LENGTH core_files n)
if(n LESS 5)
  message(FATAL_ERROR "core include check found only ${n} files under ${ROOT}: wrong root?")
endif()
message(STATUS "core_is_sans_io: ${n} core files checked")
