# Finds every library DESIGN.md names, the way it names them. A missing
# required library is a configure error with the Debian package to install.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)

find_package(Eigen3 3.4 REQUIRED NO_MODULE)
find_package(Boost 1.74 REQUIRED COMPONENTS program_options)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(GTest REQUIRED)
find_package(benchmark REQUIRED)

# SystemC via pkg-config (Debian ships systemc.pc, no CMake package).
pkg_check_modules(SYSTEMC REQUIRED IMPORTED_TARGET systemc)

# Verilator's own CMake package provides verilate().
find_package(verilator REQUIRED HINTS $ENV{VERILATOR_ROOT} /usr/share/verilator)

# CUDA is optional: compiled whenever nvcc exists, run only where a GPU exists.
include(CheckLanguage)
check_language(CUDA)
if(CMAKE_CUDA_COMPILER)
  set(LUTC_HAVE_CUDA ON)
else()
  set(LUTC_HAVE_CUDA OFF)
endif()
message(STATUS "lutc: CUDA compiler: ${CMAKE_CUDA_COMPILER} (enabled: ${LUTC_HAVE_CUDA})")
