# Finds every library DESIGN.md names, the way it names them. A missing
# required library is a configure error with the Debian package to install.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)

find_package(Eigen3 3.4 REQUIRED NO_MODULE)
find_package(Boost 1.74 REQUIRED COMPONENTS program_options)
find_package(nlohmann_json 3.10 REQUIRED)
if(NOT LUTC_PYTHON_ONLY)  # tests and benchmarks are not part of the Python build
  find_package(GTest REQUIRED)
  find_package(benchmark REQUIRED)
endif()

# SystemC via pkg-config (Debian ships systemc.pc, no CMake package).
pkg_check_modules(SYSTEMC REQUIRED IMPORTED_TARGET systemc)

# Verilator's own CMake package provides verilate().
if(NOT LUTC_PYTHON_ONLY)
  find_package(verilator REQUIRED HINTS $ENV{VERILATOR_ROOT} /usr/share/verilator)
endif()

# CUDA is optional: compiled whenever nvcc exists, run only where a GPU exists.
# The Python build and the instrumented builds (LutcSanitize.cmake: the
# sanitizers are host-compiler flags nvcc would not pass on) never compile it.
include(CheckLanguage)
if(NOT LUTC_PYTHON_ONLY AND NOT LUTC_SANITIZE)
  check_language(CUDA)
endif()
if(CMAKE_CUDA_COMPILER AND NOT LUTC_PYTHON_ONLY AND NOT LUTC_SANITIZE)
  set(LUTC_HAVE_CUDA ON)
else()
  set(LUTC_HAVE_CUDA OFF)
endif()
message(STATUS "lutc: CUDA compiler: ${CMAKE_CUDA_COMPILER} (enabled: ${LUTC_HAVE_CUDA})")
