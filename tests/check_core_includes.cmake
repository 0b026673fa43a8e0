# Fails when a file of the sans-IO core (pandafly_core) includes an I/O, thread
# or clock facility or the CA/HDF5/ZMQ C APIs, or calls a clock's now().
# Run by ctest as `core_is_sans_io`. The core is every header and source under
# include/pandafly and src/ except the io/ subfolders.
file(GLOB_RECURSE core_files
  ${ROOT}/include/pandafly/*.hpp ${ROOT}/src/*.cpp ${ROOT}/src/*.hpp)
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
