# Instrumented builds, applied to every target the project defines (libraries,
# the CLI, tests, the verilated RTL model and Verilator's runtime), so a bug is
# caught wherever it is, not only in the code a harness calls.
#
# LUTC_SANITIZE=address,undefined (scripts/test-sanitize): the whole ctest
# suite under ASan + UBSan; the first finding aborts (-fno-sanitize-recover).
# LUTC_FUZZ=ON (scripts/fuzz-all, clang only): the libraries carry libFuzzer's
# coverage instrumentation plus ASan + UBSan, and fuzz/ adds one libFuzzer
# executable per reader.
set(LUTC_SANITIZE "" CACHE STRING "Sanitizers for every target, e.g. address,undefined (empty: none)")
option(LUTC_FUZZ "Build the libFuzzer targets of fuzz/ (clang only)" OFF)

set(lutc_instrument "")
if(LUTC_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "LUTC_FUZZ needs clang: configure with -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++")
  endif()
  if(NOT LUTC_SANITIZE)
    set(LUTC_SANITIZE address,undefined)
  endif()
  # fuzzer-no-link: coverage counters in the libraries without libFuzzer's
  # main(); the harnesses link with -fsanitize=fuzzer (fuzz/CMakeLists.txt).
  list(APPEND lutc_instrument -fsanitize=fuzzer-no-link)
endif()

if(LUTC_SANITIZE)
  list(APPEND lutc_instrument -fsanitize=${LUTC_SANITIZE} -fno-sanitize-recover=all -fno-omit-frame-pointer -O1 -g)
  # C and C++ only: CUDA is off in these builds (LutcDependencies.cmake).
  add_compile_options("$<$<COMPILE_LANGUAGE:C,CXX>:${lutc_instrument}>")
  add_link_options(-fsanitize=${LUTC_SANITIZE})
  # What code built against these libraries outside the project (the
  # install test's consumer) must add too.
  # -Wl,--as-needed: GCC's sanitizer link specs turn Debian's default
  # --as-needed off, so a consumer that uses no SystemC would still link
  # libsystemc.so (pkg-config's Requires), whose undefined sc_main then fails.
  set(LUTC_SANITIZE_FLAGS "-fsanitize=${LUTC_SANITIZE} -Wl,--as-needed")
  message(STATUS "lutc: instrumented build: ${lutc_instrument}")
endif()
