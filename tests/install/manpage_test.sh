#!/usr/bin/env bash
# lutc.1 renders with groff without a warning, equals what `lutc manpage`
# prints now, and shows every command of `lutc --help` and every flag of each
# `lutc COMMAND --help`.
# Usage: manpage_test.sh LUTC MAN_PAGE
set -euo pipefail
lutc=$1 page=$2
source "$(dirname "$0")/help_tables.sh"
export SC_COPYRIGHT_MESSAGE=DISABLE

failures=0
fail() { echo "man page test: FAIL: $*" >&2; failures=$((failures + 1)); }

cmp -s "$page" <("$lutc" manpage) || fail "$page differs from 'lutc manpage'"
if ! command -v groff >/dev/null; then
  if [ "${CI:-}" = true ]; then echo "man page test: FAIL: groff is not installed" >&2; exit 1; fi
  echo "man page test: groff not installed, nothing rendered"
  exit 0
fi

warnings=$(groff -man -Tutf8 -ww -z "$page" 2>&1 >/dev/null)
[ -z "$warnings" ] || fail "groff warns: $warnings"
# Plain ASCII text: no bold/underline overstrikes, '\-' as '-'.
text=$(groff -man -Tascii -P-cbou "$page" 2>/dev/null)
[ "$(wc -l <<<"$text")" -gt 100 ] || fail "the rendered page has only $(wc -l <<<"$text") lines"

n=0
while IFS= read -r c; do
  grep -qxF ".SS \"${c//-/\\-}\"" "$page" || fail "no section for command '$c'"
  # The command's section: its .SS heading (indented 3) up to the next heading.
  section=$(awk -v h="   $c" '$0 == h {on = 1; next} on && /^([^ ]|[ ][^ ]|[ ][ ][^ ]|[ ][ ][ ][^ ])/ {exit} on {print}' <<<"$text")
  [ -n "$section" ] || fail "no rendered section for '$c'"
  while IFS= read -r f; do
    n=$((n + 1))
    grep -qE -- "(^|[ ,])$f([ ,]|\$)" <<<"$section" || fail "'$c' flag $f not in its section of the page"
  done < <(help_flags "$lutc" "$c")
done < <(help_commands "$lutc")
grep -q "EXIT STATUS" <<<"$text" || fail "no EXIT STATUS section"

[ "$failures" -eq 0 ] || { echo "man page test: $failures failure(s)" >&2; exit 1; }
echo "man page test: ok ($n flags found)"
