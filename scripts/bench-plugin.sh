#!/usr/bin/env bash
# The same filter as a built-in and as a plugin. Each built-in's own source
# file (count, ipproto, bpf) is renamed NAME_plugin and built out of tree
# against this build installed into a staging prefix, with pkg-config and
# the optimisation meson gives the library (-O3). Both run in the same
# sl-replay process on sibling branches, so they see the same packets under
# the same load; the branch order alternates between runs. Prints the median
# over RUNS (default 5) of each node's ns/packet (its cycles over tsc_hz) and
# the difference. Target: within 1 ns/packet.
# Usage: scripts/bench-plugin.sh [RUNS] [PACKETS, default 1000000]
set -euo pipefail
. "$(dirname "$0")/usage.sh"
usage_if_asked "$@"
cd "$(dirname "$0")/.."
runs=${1:-5}
packets=${2:-1000000}
scripts/setup.sh
scripts/build.sh build >/dev/null
work=$(realpath -m "${BENCH_DIR:-build/bench}")
mkdir -p "$work"
in="$work/bench-$packets.pcap"
[ -f "$in" ] || python3 scripts/gen-bench-capture.py "$in" "$packets"

# An installed streamline, as a plugin author has it.
rm -rf "$work/plugins"
mkdir -p "$work/plugins"
pkgconfig=$(scripts/stage-sdk.sh build "$work/plugin-stage")
flags=$(PKG_CONFIG_PATH=$pkgconfig pkg-config --cflags --libs streamline)

declare -A args=([count]='' [ipproto]='' [bpf]='"tcp port 80"')
filters=(count ipproto bpf)
for f in "${filters[@]}"; do
  sed -E "s/(SL_REGISTER_FILTER\([^,]+, )\"$f\"/\1\"${f}_plugin\"/" "src/filters/$f.cpp" > "$work/plugins/$f.cpp"
  grep -q "\"${f}_plugin\"" "$work/plugins/$f.cpp"
  # -Wno-volatile: DPDK's headers warn under C++20.
  c++ -std=c++20 -O3 -Wno-volatile -fPIC -shared "$work/plugins/$f.cpp" -o "$work/plugins/${f}_plugin.so" $flags
done

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "$packets packets, median of $runs runs (ns/packet of the filter's node)"
printf '%-10s %10s %10s %10s  %s\n' filter built-in plugin difference verdict
for f in "${filters[@]}"; do
  builtin_ns=(); plugin_ns=()
  for run in $(seq "$runs"); do
    a="rx | $f ${args[$f]} name=builtin"
    b="rx | ${f}_plugin ${args[$f]} name=plugin"
    if [ $((run % 2)) = 0 ]; then pipelines="$a"$'\n'"$b"; else pipelines="$b"$'\n'"$a"; fi
    ./build/apps/sl-replay -q --plugin "$work/plugins/${f}_plugin.so" -e "$pipelines" \
      --stats-json "$work/plugin.json" "$in" >/dev/null
    read -r bn pn < <(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
ns = {n["name"]: n["cycles_per_packet"] / d["tsc_hz"] * 1e9 for n in d["nodes"]}
print(ns["builtin"], ns["plugin"])' "$work/plugin.json")
    builtin_ns+=("$bn"); plugin_ns+=("$pn")
  done
  b=$(printf '%s\n' "${builtin_ns[@]}" | median)
  p=$(printf '%s\n' "${plugin_ns[@]}" | median)
  awk -v f="$f" -v b="$b" -v p="$p" 'BEGIN {
    d = p - b; printf "%-10s %10.2f %10.2f %+10.2f  %s\n", f, b, p, d, (d <= 1 && d >= -1) ? "within 1 ns" : "over 1 ns" }'
done
