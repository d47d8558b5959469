#!/usr/bin/env bash
# Runs a libFuzzer target under AddressSanitizer and UBSan:
#   scripts/fuzz.sh TARGET SECONDS [LIBFUZZER-OPTIONS...]
# TARGET is capture, parser, language or filters (fuzz/fuzz_TARGET.cpp), or
# all: each in turn for SECONDS. Builds build-fuzz with clang the first time.
#
# The corpus grows in build-fuzz/jail/TARGET/corpus, seeded from
# pcap-samples/, config/ and fuzz/regressions/TARGET/ (scripts/fuzz-seeds.py).
# A crash, a leak, a hang or a sanitizer report stops the run: its input is
# left in build-fuzz/jail/TARGET/crashes/ and the script fails. Put that input in
# fuzz/regressions/TARGET/ once it is fixed: every run replays those first.
#
# The last lines say how many inputs ran, how many per second, and the
# coverage reached (edges of the instrumented code, and features).
set -euo pipefail
. "$(dirname "$0")/usage.sh"
usage_if_asked "$@"
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { print_usage >&2; exit 2; }
target=$1 seconds=$2
shift 2
targets=(capture parser language filters)
if [ "$target" = all ]; then
  status=0
  for t in "${targets[@]}"; do "$0" "$t" "$seconds" "$@" || status=1; done
  exit $status
fi
case " ${targets[*]} " in
  *" $target "*) ;;
  *) echo "fuzz.sh: no target '$target' (${targets[*]} or all)" >&2; exit 2 ;;
esac

scripts/setup.sh clang libclang-rt-dev >/dev/null
if [ ! -f build-fuzz/build.ninja ]; then
  CC=clang CXX=clang++ meson setup build-fuzz -Dfuzz=true -Dtests=false -Dbuildtype=debugoptimized \
    -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
fi
ninja -C build-fuzz >/dev/null

# The target runs in a folder of its own, which the language target makes
# its root (fuzz/fuzz_support.hpp): the corpus must be inside.
jail=build-fuzz/jail/$target
corpus=$jail/corpus crashes=$jail/crashes
rm -rf "$jail/seeds"
mkdir -p "$corpus" "$crashes"
touch "$jail/.sl-fuzz-jail"
python3 scripts/fuzz-seeds.py "$target" "$jail/seeds"
log=$PWD/build-fuzz/fuzz-$target.log
binary=$PWD/build-fuzz/fuzz/fuzz-$target
# UBSan's findings stop the run as ASan's do.
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
echo "fuzz $target for ${seconds}s"
status=0
(cd "$jail" && "$binary" -max_total_time="$seconds" -timeout=25 -rss_limit_mb=4096 -max_len=65536 \
  -print_final_stats=1 -artifact_prefix=crashes/ "$@" corpus seeds) >"$log" 2>&1 || status=$?
# libFuzzer's last status line: "#RUNS DONE cov: EDGES ft: FEATURES corp: ..."
last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
corp=$(sed -n 's/.* corp: \([0-9]*\)\/.*/\1/p' <<<"$last")
if [ $status -ne 0 ]; then
  grep -E 'ERROR|SUMMARY|runtime error|Test unit written' "$log" | head -20
  echo "fuzz $target: FAILED after ${runs:-?} inputs (log: $log, input: $crashes/)"
  exit 1
fi
echo "fuzz $target: ${runs:-0} inputs, ${rate:-0}/s, coverage ${cov:-0} edges, ${ft:-0} features, corpus ${corp:-0}"
