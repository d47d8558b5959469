#!/usr/bin/env bash
# TCP reassembly against tcpflow on the same capture, whole process, same session:
#   rx | reassemble | streams DIR          vs      tcpflow -r IN -o DIR
# on a capture of PACKETS packets of FLOWS concurrent connections (1% of
# segments reordered; scripts/gen-stream-capture.py). Prints the median of
# RUNS (default 3) for each and the ratio, and checks that every file of
# both folders holds the same bytes. Both write to OUT (default a folder in
# /dev/shm): on a disk, each run's hundred thousand new files meet the
# inodes the last run freed, and ext4's allocator, which skips recently
# deleted inodes, then costs more than either tool (tens of seconds, from
# run to run). Usage: [OUT=DIR] scripts/bench-streams.sh [PACKETS] [RUNS] [FLOWS]
set -euo pipefail
. "$(dirname "$0")/usage.sh"
usage_if_asked "$@"
cd "$(dirname "$0")/.."
packets=${1:-1000000}
runs=${2:-3}
flows=${3:-5000}
scripts/setup.sh tcpflow
scripts/build.sh build
. scripts/bench-common.sh
in=$(stream_capture "$packets" "$flows")

out=${OUT:-/dev/shm/sl-bench-streams.$$}
mkdir -p "$out"
trap 'rm -rf "$out"' EXIT
cat "$in" >/dev/null  # warm the page cache for both
sl_t=(); tf_t=()
for _ in $(seq "$runs"); do
  rm -rf "$out/sl-streams" "$out/tcpflow-streams"
  sl_t+=("$(seconds ./build/apps/sl-replay -q -o "$out/sl-streams" -e 'rx | reassemble | streams "flows"' "$in")")
  mkdir -p "$out/tcpflow-streams"
  tf_t+=("$(seconds tcpflow -r "$in" -o "$out/tcpflow-streams")")
done
rm -f "$out/tcpflow-streams/report.xml"
files=$(find "$out/tcpflow-streams" -type f | wc -l)
if ! diff -rq "$out/tcpflow-streams" "$out/sl-streams/flows" >/dev/null; then
  echo "bench-streams: the stream files differ from tcpflow's" >&2
  exit 1
fi
sl=$(printf '%s\n' "${sl_t[@]}" | median)
tf=$(printf '%s\n' "${tf_t[@]}" | median)
echo "capture: $packets packets, $flows connections at a time, $(stat -c %s "$in") bytes; $files stream files in $out, the same bytes in both"
echo "sl-replay reassemble|streams  median of $runs: $sl s  (${sl_t[*]})"
echo "tcpflow                        median of $runs: $tf s  (${tf_t[*]})"
awk "BEGIN{printf \"ratio: sl-replay is %.2fx tcpflow's speed\n\", $tf / $sl}"
