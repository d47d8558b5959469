#!/usr/bin/env bash
# Hyperscan's streaming mode over every TCP stream against the same patterns
# per packet, same capture, same session:
#   rx | reassemble | stream-match P... | count     vs     rx | match P... | count
# on a capture of PACKETS packets of FLOWS concurrent connections
# (scripts/gen-stream-capture.py). Prints, as medians of RUNS (default 5),
# each node's cycles per packet from --stats-json and the whole run's
# seconds, and the ratios: stream-match alone, and with the reassembly it
# needs, against match. Usage: scripts/bench-stream-match.sh [PACKETS] [RUNS] [FLOWS]
set -euo pipefail
. "$(dirname "$0")/usage.sh"
usage_if_asked "$@"
cd "$(dirname "$0")/.."
packets=${1:-1000000}
runs=${2:-5}
flows=${3:-5000}
scripts/setup.sh
scripts/build.sh build
. scripts/bench-common.sh
in=$(stream_capture "$packets" "$flows")
patterns='"GET /admin" "password=" "/etc/passwd" "cmd.exe" "SELECT * FROM" "User-Agent: curl" "\x4d\x5a\x90\x00\x03" "\x7fELF\x02\x01"'

# cycles per packet of NODE in the stats file
cycles() { python3 -c 'import json,sys; print(next(n["cycles_per_packet"] for n in json.load(open(sys.argv[1]))["nodes"] if n["name"] == sys.argv[2]))' "$1" "$2"; }

cat "$in" >/dev/null
pp=(); sm=(); ra=(); pp_s=(); st_s=()
for _ in $(seq "$runs"); do
  pp_s+=("$(seconds ./build/apps/sl-replay -q --stats-json "$work/pp.json" -e "rx | match $patterns | count" "$in")")
  pp+=("$(cycles "$work/pp.json" 'match#1')")
  st_s+=("$(seconds ./build/apps/sl-replay -q --stats-json "$work/sm.json" -e "rx | reassemble | stream-match $patterns | count" "$in")")
  sm+=("$(cycles "$work/sm.json" 'stream-match#1')")
  ra+=("$(cycles "$work/sm.json" 'reassemble#1')")
done
m_pp=$(printf '%s\n' "${pp[@]}" | median)
m_sm=$(printf '%s\n' "${sm[@]}" | median)
m_ra=$(printf '%s\n' "${ra[@]}" | median)
echo "capture: $packets packets, $flows connections at a time; 8 patterns"
echo "match (per packet)          median of $runs: $m_pp cycles/packet  (${pp[*]})"
echo "stream-match (per stream)   median of $runs: $m_sm cycles/packet  (${sm[*]})"
echo "reassemble (that it needs)  median of $runs: $m_ra cycles/packet  (${ra[*]})"
echo "whole runs: per packet $(printf '%s\n' "${pp_s[@]}" | median) s, per stream $(printf '%s\n' "${st_s[@]}" | median) s"
awk "BEGIN{printf \"ratio: stream-match %.2fx match's time; with reassemble %.2fx\n\", $m_sm / $m_pp, ($m_sm + $m_ra) / $m_pp}"
