# The golden decode is bit-exact only if no compiler fuses a*b+c into an FMA
# behind our back: every implementation must round where docs/numerics.md says.
add_compile_options(-Wall -Wextra -ffp-contract=off)
# A switch over an enum that misses an enumerator (an opcode of isa.def, a
# scheme) is a build error everywhere: such switches have no default.
add_compile_options(-Werror=switch)
# CI builds with every warning an error (scripts/setup does when CI=true); a
# user's newer compiler may add warnings, so it is off by default.
option(LUTC_WERROR "Treat every compiler warning of the project's C/C++ sources as an error" OFF)
if(LUTC_WERROR)
  add_compile_options($<$<COMPILE_LANGUAGE:C,CXX>:-Werror>)
endif()
