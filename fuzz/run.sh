#!/usr/bin/env bash
# Builds the fuzz targets, replays the corpus kept in fuzz/corpus/<target> (every input must
# pass), then fuzzes each target for SECONDS (default 10). New inputs go to a scratch folder,
# not the repository; a crash stops the run with its input in fuzz/artifacts/<target>/.
#   fuzz/run.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-10}
command -v cargo-fuzz >/dev/null || cargo install --locked --quiet cargo-fuzz@0.13.2
# libFuzzer needs unstable rustc flags: rustup's nightly where it is installed, else stable
# with RUSTC_BOOTSTRAP=1.
toolchains=$(rustup toolchain list 2>/dev/null || true)
if grep -q '^nightly' <<<"$toolchains"; then
  toolchain=(+nightly)
  echo "fuzzing with rustup's nightly: $(rustc +nightly --version)"
else
  toolchain=()
  export RUSTC_BOOTSTRAP=1
  echo "fuzzing with stable and RUSTC_BOOTSTRAP=1: $(rustc --version)"
fi
# `-s none`: the code under test forbids `unsafe`, so AddressSanitizer would find nothing the
# panics do not; `--dev` builds in a third of the time of a release build on two cores.
flags=(-s none --dev)
fuzz() { cargo ${toolchain[@]+"${toolchain[@]}"} fuzz "$@"; }
fuzz build "${flags[@]}"
mapfile -t targets < <(cargo fuzz list)
[ "${#targets[@]}" -gt 0 ] || { echo "FAILED: cargo fuzz list found no targets"; exit 1; }
scratch=$(mktemp -d /tmp/latchkey-fuzz.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
printf '%-20s %10s %14s %12s\n' target corpus "fuzz runs" "runs/s"
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "$scratch/$t"
  # -runs=0: execute every corpus input once, then stop.
  fuzz run "${flags[@]}" "$t" "corpus/$t" -- -runs=0 >"$scratch/$t.replay" 2>&1 \
    || { cat "$scratch/$t.replay"; echo "FAILED: replaying corpus/$t"; exit 1; }
  fuzz run "${flags[@]}" "$t" "$scratch/$t" "corpus/$t" -- \
    -max_total_time="$seconds" -max_len=4096 >"$scratch/$t.log" 2>&1 \
    || { tail -40 "$scratch/$t.log"; echo "FAILED: fuzzing $t (input in fuzz/artifacts/$t/)"; exit 1; }
  runs=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\1/p' "$scratch/$t.log")
  secs=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\2/p' "$scratch/$t.log")
  printf '%-20s %10s %14s %12s\n' "$t" "$(ls "corpus/$t" | wc -l)" "$runs" "$((runs / (secs > 0 ? secs : 1)))"
done
