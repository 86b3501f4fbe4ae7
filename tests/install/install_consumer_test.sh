#!/usr/bin/env bash
# Installs the build tree into a fresh prefix, checks that every public header
# and file is there, then builds and runs tests/install/consumer twice: with
# find_package(lutc CONFIG) and with `pkg-config --cflags --libs lutc`.
# Usage: install_consumer_test.sh BUILD_DIR SOURCE_DIR WORK_DIR CXX GENERATOR
# LUTC_CONSUMER_FLAGS: compile and link flags the consumer needs too (the
# sanitizer runtime, when the build is instrumented: scripts/test-sanitize).
set -euo pipefail
build=$1 src=$2 work=$3 cxx=$4 generator=$5
extra=${LUTC_CONSUMER_FLAGS:-}
consumer_src=$src/tests/install/consumer

rm -rf "$work"
mkdir -p "$work"
prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" >"$work/install.log"

failures=0
fail() { echo "install test: FAIL: $*" >&2; failures=$((failures + 1)); }

pc=$(find "$prefix" -name lutc.pc -path '*/pkgconfig/*' | head -n 1)
[ -n "$pc" ] || { echo "install test: FAIL: no lutc.pc under $prefix" >&2; exit 1; }
libdir=$(dirname "$(dirname "$pc")")

for f in bin/lutc share/man/man1/lutc.1 share/bash-completion/completions/lutc share/zsh/site-functions/_lutc \
         share/doc/lutc/README.md share/doc/lutc/docs/numerics.md share/doc/lutc/docs/install.md \
         share/doc/lutc/examples/arch/default.ini; do
  [ -f "$prefix/$f" ] || fail "missing $f"
done
for f in liblutc_model.a liblutc_compiler.a liblutc_sim.a liblutc_kernels_cpu.a liblutc_explore.a \
         cmake/lutc/lutcConfig.cmake cmake/lutc/lutcConfigVersion.cmake cmake/lutc/lutcTargets.cmake; do
  [ -f "$libdir/$f" ] || fail "missing ${libdir#"$prefix"/}/$f"
done

# Every public header of the source tree is installed. rtl/harness/include is
# the verilated engine's harness and model/cli/driver/include the driver's
# command framework, both internal to the lutc executable; the CUDA headers
# are installed where CUDA was built.
n_headers=0
while IFS= read -r h; do
  rel=${h#*/include/}
  case $h in
    "$src"/rtl/* | "$src"/model/cli/driver/*) continue ;;
    "$src"/kernels/cuda/*) [ -f "$libdir/cmake/lutc/lutcCudaTargets.cmake" ] || continue ;;
  esac
  n_headers=$((n_headers + 1))
  [ -f "$prefix/include/$rel" ] || fail "header $rel (from ${h#"$src"/}) not installed"
done < <(find "$src" -path "$src/build*" -prune -o -path '*/include/lutc/*' \( -name '*.h' -o -name '*.def' \) -print)
[ "$n_headers" -gt 50 ] || fail "found only $n_headers public headers in $src"
echo "install test: $n_headers public headers installed"

version=$("$prefix/bin/lutc" --version)
[[ $version == "lutc "[0-9]* ]] || fail "installed lutc --version printed '$version'"

# CMake package.
cmake -S "$consumer_src" -B "$work/cmake-consumer" -G "$generator" -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_CXX_FLAGS="$extra" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF \
      >"$work/cmake-consumer.log" 2>&1 || { cat "$work/cmake-consumer.log" >&2; exit 1; }
cmake --build "$work/cmake-consumer" >>"$work/cmake-consumer.log" 2>&1 || { cat "$work/cmake-consumer.log" >&2; exit 1; }
out=$("$work/cmake-consumer/consumer") || { echo "$out" >&2; fail "CMake consumer exited non-zero"; }
echo "$out"
grep -q '^consumer: executor == golden GEMV bit for bit' <<<"$out" || fail "CMake consumer: no bit-exact GEMV line"
grep -q '^consumer: ok$' <<<"$out" || fail "CMake consumer did not finish"

# pkg-config.
export PKG_CONFIG_PATH=$(dirname "$pc")
flags=$(pkg-config --cflags --libs lutc) || { fail "pkg-config --cflags --libs lutc failed"; flags=; }
echo "install test: pkg-config --cflags --libs lutc: $flags"
"$cxx" -std=c++17 -O1 $extra "$consumer_src/main.cpp" $flags -o "$work/pc-consumer" 2>"$work/pc-consumer.log" ||
  { cat "$work/pc-consumer.log" >&2; exit 1; }
out=$("$work/pc-consumer") || { echo "$out" >&2; fail "pkg-config consumer exited non-zero"; }
echo "$out"
grep -q '^consumer: ok$' <<<"$out" || fail "pkg-config consumer did not finish"

[ "$failures" -eq 0 ] || { echo "install test: $failures failure(s)" >&2; exit 1; }
echo "install test: ok"
