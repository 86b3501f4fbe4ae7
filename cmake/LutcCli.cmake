# The `lutc` driver is one executable that links every component's commands
# (top-level CMakeLists.txt, docs/architecture.md). Each component's cli/
# folder builds as an OBJECT library, lutc_<name>_cli, linked to the driver's
# framework (lutc_cli: the command registry, CLI helpers, --help, man page,
# completion) and to the component library it fronts. Commands register
# themselves at start-up, so every object file must reach the executable:
# an OBJECT library guarantees that, a static one would drop them.
#   lutc_add_cli(NAME SOURCES ... LINK ... [INCLUDE dir])
function(lutc_add_cli name)
  cmake_parse_arguments(A "" "" "SOURCES;LINK;INCLUDE" ${ARGN})
  add_library(lutc_${name}_cli OBJECT ${A_SOURCES})
  if(LUTC_PYTHON_ONLY)
    set_target_properties(lutc_${name}_cli PROPERTIES EXCLUDE_FROM_ALL ON)  # nothing builds the driver
  endif()
  target_link_libraries(lutc_${name}_cli PUBLIC lutc_cli ${A_LINK})
  if(A_INCLUDE)
    target_include_directories(lutc_${name}_cli PUBLIC ${A_INCLUDE})  # headers another command uses
  endif()
endfunction()
