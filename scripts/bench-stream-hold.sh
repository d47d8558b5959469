#!/usr/bin/env bash
# What reassembly's held segments cost the mbuf pool under each shadow
# policy: sl-forward reads a capture of FLOWS concurrent connections, a
# fraction REORDER of whose data segments come late, from a net_pcap port
# into `rx | reassemble | count`, with rings of 128 descriptors and a pool
# of MBUFS mbufs (default 1151: less than the segments the streams hold at
# their peak, 1,213, plus a walk's packets). Prints per policy the packets
# read, those the port dropped for want of an mbuf, the held bytes copied
# into the pool and the most mbuf references held at once, as medians of RUNS
# (default 3), and hybrid's copies as a share of copy-once's.
#   zero-copy holds the mbufs and copies nothing: the pool runs dry.
#   hybrid holds them, and copies the oldest when the pool runs low.
#   copy-once copies every held segment at once.
# Usage: scripts/bench-stream-hold.sh [PACKETS] [FLOWS] [REORDER] [MBUFS] [RUNS]
set -euo pipefail
. "$(dirname "$0")/usage.sh"
usage_if_asked "$@"
cd "$(dirname "$0")/.."
packets=${1:-1000000}
flows=${2:-100000}
reorder=${3:-0.01}
mbufs=${4:-1151}
runs=${5:-3}
scripts/setup.sh
scripts/build.sh build
. scripts/bench-common.sh
in=$(stream_capture "$packets" "$flows" "$reorder")
total=$(python3 -c 'import sys
f = open(sys.argv[1], "rb"); f.seek(24); n = 0
while True:
    h = f.read(16)
    if len(h) < 16: break
    f.seek(int.from_bytes(h[8:12], "little"), 1); n += 1
print(n)' "$in")

# FIELD of the stats file: read, missed, copied, peak, cycles
figure() {
  python3 -c 'import json, sys
d = json.load(open(sys.argv[1])); n = next(x for x in d["nodes"] if x["name"] == "reassemble#1")
print({"read": d["totals"]["packets_read"], "missed": d["ports"][0]["rx_no_mbuf"] + d["ports"][0]["rx_missed"],
       "copied": n["counters"]["stream_copied_bytes"], "peak": n["counters"]["stream_held_mbufs_peak"],
       "cycles": n["cycles_per_packet"]}[sys.argv[2]])' "$1" "$2"
}

declare -A med
echo "capture: $total packets, $flows connections at a time, $reorder of data segments late; pool of $mbufs mbufs"
printf '%-10s %10s %12s %14s %10s %12s\n' policy read "no mbuf" "bytes copied" "held peak" "cycles/pkt"
for policy in zero-copy hybrid copy-once; do
  declare -A runs_of=()
  for f in read missed copied peak cycles; do runs_of[$f]=""; done
  for k in $(seq "$runs"); do
    rm -f "$work/hold.json"
    # net_pcap reads the file to its end and then idles: the run ends when
    # every record was read or dropped.
    ./build/apps/sl-forward --no-huge -m 1024 --no-pci --no-shconf --file-prefix="sl-bench-hold-$$" \
      --vdev="net_pcap0,rx_pcap=$in" -- -q --shadow "$policy" --rxd 128 --txd 128 --mbufs "$mbufs" \
      --stats-json "$work/hold.json" -e 'rx | reassemble flows=262144 mbufs=65536 | count' \
      --duration "$(python3 -c "print(max(20, $total // 80000))")" >/dev/null 2>&1
    for f in read missed copied peak cycles; do runs_of[$f]+="$(figure "$work/hold.json" "$f") "; done
    seen=$(( $(figure "$work/hold.json" read) + $(figure "$work/hold.json" missed) ))
    [ "$seen" -eq "$total" ] || echo "warning: $policy run $k saw $seen of $total records in its time" >&2
  done
  for f in read missed copied peak cycles; do
    med[$policy.$f]=$(printf '%s\n' ${runs_of[$f]} | median)
  done
  printf '%-10s %10s %12s %14s %10s %12s\n' "$policy" "${med[$policy.read]}" "${med[$policy.missed]}" \
    "${med[$policy.copied]}" "${med[$policy.peak]}" "${med[$policy.cycles]}"
done
awk -v h="${med[hybrid.copied]}" -v c="${med[copy-once.copied]}" \
  'BEGIN { if (c > 0) printf "hybrid copies %.1f%% of the bytes copy-once copies\n", 100 * h / c }'
