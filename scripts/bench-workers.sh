#!/usr/bin/env bash
# sl-replay on two workers against one, same capture, same session, on a
# payload-heavy graph (a regular expression over every TCP payload):
#   rx | bpf "tcp" | regex "user=[a-z]+" | pcap OUT
# Prints the median of RUNS (default 5) whole-process times for --workers 1
# and --workers 2, the ratio, and checks that both runs wrote the same file
# and counted the same packets at every node. Then what this machine charges
# for handing records from the CPU that read them to the one that owns them
# (scripts/cpu-handoff.c on the same capture).
# Usage: scripts/bench-workers.sh [PACKETS] [RUNS]
set -euo pipefail
. "$(dirname "$0")/usage.sh"
usage_if_asked "$@"
cd "$(dirname "$0")/.."
packets=${1:-3000000}
runs=${2:-5}
scripts/setup.sh
scripts/build.sh build
. scripts/bench-common.sh
in=$(bench_capture "$packets")
cpus=$(nproc)
if [ "$cpus" -lt 2 ]; then
  echo "bench-workers: this machine gives $cpus CPU; two workers need two" >&2
  exit 1
fi

graph='rx | bpf "tcp" | regex "user=[a-z]+" | pcap "logins.pcap"'
replay() {  # WORKERS
  rm -rf "$work/w$1"
  ./build/apps/sl-replay -q --workers "$1" -e "$graph" -o "$work/w$1" --stats-json "$work/w$1.json" "$in"
}

# The fixed cost, on one packet: DPDK's start-up, serial whatever the
# workers.
first="$work/one.pcap"
tcpdump -r "$in" -c 1 -w "$first" 2>/dev/null
start() { ./build/apps/sl-replay -q --workers 2 -e "$graph" -o "$work/w-one" "$first"; }

handoff="$work/cpu-handoff"
if [ ! -x "$handoff" ] || [ scripts/cpu-handoff.c -nt "$handoff" ]; then
  cc -O2 -pthread -o "$handoff" scripts/cpu-handoff.c
fi

cat "$in" >/dev/null  # warm the page cache for both
one=(); two=(); zero=()
for _ in $(seq "$runs"); do
  one+=("$(seconds replay 1)")
  two+=("$(seconds replay 2)")
  zero+=("$(seconds start)")
done
one_m=$(printf '%s\n' "${one[@]}" | median)
two_m=$(printf '%s\n' "${two[@]}" | median)
zero_m=$(printf '%s\n' "${zero[@]}" | median)

# The same work: equal files, equal per-node counts, and both workers busy.
same=yes
cmp -s "$work/w1/logins.pcap" "$work/w2/logins.pcap" || same=NO
python3 - "$work/w1.json" "$work/w2.json" <<'PY' || same=NO
import json, sys
one, two = (json.load(open(f)) for f in sys.argv[1:])
def nodes(d):
    return {n["name"]: (n["packets_in"], n["packets_out"], n["drops"], n["counters"]) for n in d["nodes"]}
ok = nodes(one) == nodes(two) and one["totals"] == two["totals"]
dealt = [w["packets_read"] for w in two.get("workers", [])]
ok = ok and len(dealt) == 2 and min(dealt) > 0 and sum(dealt) == one["totals"]["packets_read"]
print("workers      packets dealt: " + " + ".join(str(n) for n in dealt))
sys.exit(0 if ok else 1)
PY

printf 'capture      %s packets, %.0f MB, %s CPUs\n' "$packets" "$(awk "BEGIN{print $(stat -c %s "$in")/1e6}")" "$cpus"
printf 'graph        %s\n' "$graph"
printf '1 worker     %8.3f s  %6.2f Mpps\n' "$one_m" "$(awk "BEGIN{print $packets/$one_m/1e6}")"
printf '2 workers    %8.3f s  %6.2f Mpps\n' "$two_m" "$(awk "BEGIN{print $packets/$two_m/1e6}")"
printf 'start-up     1 packet     %8.3f s\n' "$zero_m"
printf 'ratio        2 workers are %.2fx one (median of %s runs; bar 1.6x, goal 1.9x)\n' \
  "$(awk "BEGIN{print $one_m/$two_m}")" "$runs"
printf 'ratio        without start-up: %.2fx\n' "$(awk "BEGIN{print ($one_m-$zero_m)/($two_m-$zero_m)}")"
read -r _ h_one _ h_two _ h_split _ h_both _ < <("$handoff" "$in" 3)
printf 'handoff      reading the capture and touching each record on its worker (best of 3):\n'
printf '             one CPU %.3f s; two by turns %.3f s (reading alone %.3f s); two reading all %.3f s\n' \
  "$h_one" "$h_two" "$h_split" "$h_both"
printf 'outputs      same file and counts: %s\n' "$same"
[ "$same" = yes ]
