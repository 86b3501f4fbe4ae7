#!/usr/bin/env bash
# The generated bash and zsh completion know every command of `lutc --help`
# and every flag of each `lutc COMMAND --help`; bash (and zsh, if installed)
# parse them; the bash script completes commands, flags, choice values and
# file names when run; the build's files equal what lutc prints now.
# Usage: completion_test.sh LUTC BASH_SCRIPT ZSH_SCRIPT
set -euo pipefail
lutc=$1 bash_script=$2 zsh_script=$3
source "$(dirname "$0")/help_tables.sh"
export SC_COPYRIGHT_MESSAGE=DISABLE

failures=0
fail() { echo "completion test: FAIL: $*" >&2; failures=$((failures + 1)); }

cmp -s "$bash_script" <("$lutc" completion bash) || fail "$bash_script differs from 'lutc completion bash'"
cmp -s "$zsh_script" <("$lutc" completion zsh) || fail "$zsh_script differs from 'lutc completion zsh'"

bash -n "$bash_script" || fail "bash -n rejects $bash_script"
if command -v zsh >/dev/null; then
  zsh -n "$zsh_script" || fail "zsh -n rejects $zsh_script"
elif [ "${CI:-}" = true ]; then
  fail "zsh is not installed (scripts/setup installs it)"
else
  echo "completion test: zsh not installed, zsh -n not run"
fi

mapfile -t commands < <(help_commands "$lutc")
[ "${#commands[@]}" -ge 10 ] || fail "lutc --help lists only ${#commands[@]} commands"
n_flags=0
for c in "${commands[@]}"; do
  # This command's part of each script: its bash case branch, its zsh function.
  # This command's flags as each script offers them: the bash branch's flags="..." line, the zsh
  # function's _arguments specs without their [descriptions] (which mention other flags).
  bash_block=$(awk -v c="    $c)" '$0 == c {on = 1} on && /^      flags="/ {print; exit}' "$bash_script")
  zsh_fn="_lutc_cmd_${c//-/_}"
  zsh_block=$(awk -v f="$zsh_fn() {" '$0 == f {on = 1} on {print} on && /^}$/ {exit}' "$zsh_script" |
              sed -E 's/\[([^]\\]|\\.)*\]//g')
  [ -n "$bash_block" ] || fail "bash script has no branch for '$c'"
  [ -n "$zsh_block" ] || fail "zsh script has no function for '$c'"
  grep -q "^    '$c:" "$zsh_script" || fail "zsh command list lacks '$c'"
  mapfile -t flags < <(help_flags "$lutc" "$c")
  [ "${#flags[@]}" -ge 2 ] || fail "'lutc $c --help' shows ${#flags[@]} flags"
  for f in "${flags[@]}"; do
    n_flags=$((n_flags + 1))
    grep -qE -- "(^|[ \"|])$f([ \"|)]|\$)" <<<"$bash_block" || fail "bash: '$c' lacks $f"
    grep -qE -- "(^|[ '(,{*])$f([]=+ ,)'[]|\$)" <<<"$zsh_block" || fail "zsh: '$c' lacks $f"
  done
done
echo "completion test: ${#commands[@]} commands, $n_flags flags checked in both scripts"

# Run the bash completion: COMP_WORDS as bash would set them, COMPREPLY read back.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
touch "$tmp/weights.safetensors"
complete_words() {  # words... (the last is the one being completed)
  bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _lutc; printf "%s\n" "${COMPREPLY[@]}"' \
    _ "$bash_script" "$@"
}
expect() {  # expected-line words...
  local want=$1 got; shift
  got=$(complete_words "$@")  # whole, not piped into grep -q (pipefail + SIGPIPE)
  grep -qxF -- "$want" <<<"$got" || fail "completing '$*' did not offer '$want' (got: $(tr '\n' ' ' <<<"$got"))"
}
expect quantize lutc qua
expect completion lutc comp
expect --output lutc quantize --out
expect --stream lutc lm-eval --st
for v in auto on off; do expect "$v" lutc lm-eval --stream ""; done
expect zsh lutc completion --shell z
expect bash lutc completion b
expect "$tmp/weights.safetensors" lutc quantize -o "$tmp/wei"
expect "$tmp/weights.safetensors" lutc quantize "$tmp/wei"
[ -z "$(complete_words lutc quantize --bits "")" ] || fail "a number option offered completions"

[ "$failures" -eq 0 ] || { echo "completion test: $failures failure(s)" >&2; exit 1; }
echo "completion test: ok"
