# Sourced by the completion and man page tests: reads what --help prints, so
# the tests compare the generated files against --help itself.
#   help_commands LUTC       -> one command name per line (from `lutc --help`)
#   help_flags LUTC COMMAND  -> one flag per line (--long, and -s for short names)
help_commands() {
  local text
  text=$("$1" --help)
  awk '/^commands:/ {on = 1; next} on && /^$/ {exit} on {print $1}' <<<"$text"
}
help_flags() {
  local text
  text=$("$1" "$2" --help)
  # Option lines: "  -o [ --output ] arg   ..." or "  --input arg   ...".
  sed -nE 's/^  -([A-Za-z0-9]) \[ --([A-Za-z0-9][A-Za-z0-9-]*) \].*/-\1\n--\2/p; s/^  --([A-Za-z0-9][A-Za-z0-9-]*).*/--\1/p' <<<"$text"
}
