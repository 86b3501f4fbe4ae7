# lutc(1) and the bash/zsh completion scripts, written by the built lutc from
# the option tables its --help prints (`lutc manpage`, `lutc completion`), so
# a new flag reaches them without anyone retyping it. They land in the build
# tree in their install layout (share/...), and cmake/LutcInstall.cmake
# installs them from there.
set(LUTC_MAN_PAGE ${CMAKE_BINARY_DIR}/share/man/man1/lutc.1)
set(LUTC_BASH_COMPLETION ${CMAKE_BINARY_DIR}/share/bash-completion/completions/lutc)
set(LUTC_ZSH_COMPLETION ${CMAKE_BINARY_DIR}/share/zsh/site-functions/_lutc)

add_custom_command(
  OUTPUT ${LUTC_MAN_PAGE} ${LUTC_BASH_COMPLETION} ${LUTC_ZSH_COMPLETION}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/share/man/man1
          ${CMAKE_BINARY_DIR}/share/bash-completion/completions ${CMAKE_BINARY_DIR}/share/zsh/site-functions
  COMMAND ${CMAKE_COMMAND} -E env SC_COPYRIGHT_MESSAGE=DISABLE $<TARGET_FILE:lutc> manpage -o ${LUTC_MAN_PAGE}
  COMMAND ${CMAKE_COMMAND} -E env SC_COPYRIGHT_MESSAGE=DISABLE $<TARGET_FILE:lutc> completion bash
          -o ${LUTC_BASH_COMPLETION}
  COMMAND ${CMAKE_COMMAND} -E env SC_COPYRIGHT_MESSAGE=DISABLE $<TARGET_FILE:lutc> completion zsh
          -o ${LUTC_ZSH_COMPLETION}
  DEPENDS lutc
  COMMENT "Generating lutc.1 and the bash/zsh completion from lutc's option tables"
  VERBATIM)
add_custom_target(lutc_docs ALL DEPENDS ${LUTC_MAN_PAGE} ${LUTC_BASH_COMPLETION} ${LUTC_ZSH_COMPLETION})
