# Warning and sanitizer flags shared by every pandafly target (linked PRIVATE).
add_library(pandafly_warnings INTERFACE)
target_compile_options(pandafly_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wconversion -Wsign-conversion -Wshadow
  $<$<BOOL:${PANDAFLY_WERROR}>:-Werror>)

set(PANDAFLY_SANITIZE "" CACHE STRING "Sanitizers: address,undefined | thread | empty")
if(PANDAFLY_SANITIZE)
  add_compile_options(-fsanitize=${PANDAFLY_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${PANDAFLY_SANITIZE})
  if(PANDAFLY_SANITIZE STREQUAL "thread" AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # -Wtsan fires on atomic_thread_fence inside libstdc++/Asio (TOOLCHAIN.md).
    add_compile_options(-Wno-tsan)
  endif()
endif()

# Fuzzing: every library is built with libFuzzer's coverage instrumentation, so
# the fuzzers are guided by the code under test, not only by their own file
# (the fuzz targets themselves link with -fsanitize=fuzzer).
if(PANDAFLY_FUZZ)
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
