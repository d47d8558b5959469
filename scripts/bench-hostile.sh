#!/usr/bin/env bash
# Hostile packets against well-formed ones of the same sizes, through a graph
# of every built-in filter that reads packets (defrag, reassemble, bpf,
# match, regex, ipproto, dport, vlan, sample, head, stream-match,
# stream-regex, a pcap sink), one worker, records chained in 2 KB segments
# as a NIC chains them. The hostile capture (scripts/gen-hostile-capture.py)
# has lengths that lie, IPv6 extension chains at and past the walk's bound,
# 1-byte frames, 64 KB frames and stacks of 8 VLAN tags. Prints the packet
# rate of each as the median of RUNS (default 5) runs of the capture looped
# LOOPS times, their ratio, and whether it is within 20%.
# Usage: scripts/bench-hostile.sh [PACKETS] [RUNS] [LOOPS]
set -euo pipefail
. "$(dirname "$0")/usage.sh"
usage_if_asked "$@"
cd "$(dirname "$0")/.."
packets=${1:-40000}
runs=${2:-5}
loops=${3:-10}
scripts/setup.sh
scripts/build.sh build
. scripts/bench-common.sh
bad="$work/hostile-$packets.pcap" good="$work/wellformed-$packets.pcap"
if [ ! -f "$bad" ] || [ ! -f "$good" ]; then
  echo "generating $packets hostile packets and as many well-formed ones" >&2
  python3 scripts/gen-hostile-capture.py "$bad" "$good" "$packets"
fi
graph='a = rx | defrag | reassemble
a | bpf "tcp or udp" | count name=bpf
m = a | match "GET " "HTTP/1.1"
m |1 count name=get
m |2 count name=http
a | regex "[a-z]+=[0-9]{2,}" | count name=regex
p = a | ipproto
p |6 count name=tcp
p |else count name=not-tcp
d = a | dport
d |80 count name=port-80
d |else sample 2 | count name=other-ports
v = a | vlan
v |5 count name=vlan-5
v |else head 1000000000 | count name=untagged
a | stream-match "admin" keep=flow | count name=stream-match
a | stream-regex "x{3,}y" | count name=stream-regex
a | pcap "/dev/null"'

# packets read per second of a run, from its stats
rate() { python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(j["totals"]["packets_read"] / j["elapsed_s"] / 1e6)' "$1"; }

cat "$bad" "$good" >/dev/null
h=(); w=()
for _ in $(seq "$runs"); do
  ./build/apps/sl-replay -q --workers 1 --segment 2048 --loop "$loops" --stats-json "$work/hostile.json" -e "$graph" "$bad"
  h+=("$(rate "$work/hostile.json")")
  ./build/apps/sl-replay -q --workers 1 --segment 2048 --loop "$loops" --stats-json "$work/wellformed.json" -e "$graph" "$good"
  w+=("$(rate "$work/wellformed.json")")
done
m_h=$(printf '%s\n' "${h[@]}" | median)
m_w=$(printf '%s\n' "${w[@]}" | median)
python3 - "$work/hostile.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
parse = next(n for n in j["nodes"] if n["name"] == "parse")
reasons = {k: v for k, v in parse["counters"].items() if k.startswith("malformed.") and v}
print("hostile packets counted by the parser (last run):", ", ".join(f"{k}={v}" for k, v in sorted(reasons.items())))
drops = j["totals"]["drops"]
print("drops:", ", ".join(f"{k}={v}" for k, v in sorted(drops.items())) if drops else "none")
PY
echo "capture: $packets packets of each kind, looped $loops times, one worker, 2 KB segments"
echo "hostile      median of $runs: $m_h Mpps  (${h[*]})"
echo "well-formed  median of $runs: $m_w Mpps  (${w[*]})"
python3 - "$m_h" "$m_w" <<'PY'
import sys
r = float(sys.argv[1]) / float(sys.argv[2])
print("ratio: hostile at %.2fx the well-formed rate (%s 20%%)" % (r, "within" if r >= 0.8 else "NOT within"))
PY
