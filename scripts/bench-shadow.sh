#!/usr/bin/env bash
# The shadow-buffer policies against each other, with sl-replay on captures of
# UDP packets of one size each (64, 512, 1500 and 9000 bytes; the jumbo frames
# are chains of 2 KiB segments, as a NIC with 2 KiB buffers delivers them).
#   rows:    packet size x the share of packets whose payload a filter reads
#            (0%: rx | count; 1%, 10%, 50%: rx | sample N | match; 100%:
#            rx | match); the literal never occurs, so match scans every byte
#   columns: zero-copy, copy-once, hybrid, prefetch
#   cells:   ns per packet (graph time, without start-up) / bytes copied per packet
# for the capture in the page cache (warm) and dropped from it before each run
# with posix_fadvise(POSIX_FADV_DONTNEED) (cold). Each cell is the median of
# RUNS (default 3). Also prints this machine's DMA/CPU crossover, measured by
# sl-replay with dma_skeleton. Targets: hybrid within 5% of the better of zero
# copy and copy once in every row; prefetch faster than copy once when cold.
# Usage: scripts/bench-shadow.sh [RUNS] [MEGABYTES per capture, default 64]
set -euo pipefail
. "$(dirname "$0")/usage.sh"
usage_if_asked "$@"
cd "$(dirname "$0")/.."
runs=${1:-3}
megabytes=${2:-64}
scripts/setup.sh
scripts/build.sh build >/dev/null
work=${BENCH_DIR:-build/bench}
mkdir -p "$work"
replay=./build/apps/sl-replay
python=/usr/bin/python3

# One capture per size, MEGABYTES each.
for size in 64 512 1500 9000; do
  f="$work/shadow-$size-${megabytes}M.pcap"
  [ -f "$f" ] || "$python" - "$f" "$size" "$megabytes" <<'PY'
import struct, sys
path, size, megabytes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
count = megabytes * 1024 * 1024 // (size + 16)
payload = bytes((i * 7 + 13) % 251 for i in range(size - 42))
with open(path, "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for i in range(count):
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, size - 14, i & 0xffff, 0, 64, 17, 0,
                         bytes([10, 0, 0, 1]), bytes([10, 0, (i >> 8) & 255, i & 255]))
        udp = struct.pack("!HHHH", 1024 + i % 1000, 5000, size - 34, 0)
        frame = b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00" + ip + udp + payload
        f.write(struct.pack("<IIII", i // 1000000, i % 1000000, len(frame), len(frame)) + frame)
PY
done

drop_cache() {
  "$python" -c 'import os,sys; fd=os.open(sys.argv[1], os.O_RDONLY); os.fdatasync(fd); os.posix_fadvise(fd,0,0,os.POSIX_FADV_DONTNEED)' "$1"
}
warm_cache() { cat "$1" >/dev/null; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# One run: "ns_per_packet bytes_copied_per_packet" from --stats-json.
run() {
  local policy=$1 pipeline=$2 capture=$3 size=$4 json="$work/shadow.json" segment=32768
  [ "$size" -gt 2048 ] && segment=2048
  "$replay" -q --shadow "$policy" --segment "$segment" -e "$pipeline" --stats-json "$json" "$capture" >/dev/null
  "$python" -c 'import json,sys; d=json.load(open(sys.argv[1])); n=d["totals"]["packets_read"]; s=d["shadow"]
print(d["elapsed_s"]*1e9/n, s["bytes_pulled"]/n)' "$json"
}

policies=(zero-copy copy-once hybrid prefetch)
declare -A pipelines=(
  [0%]='rx | count'
  [1%]='rx | sample 100 | match "never-there"'
  [10%]='rx | sample 10 | match "never-there"'
  [50%]='rx | sample 2 | match "never-there"'
  [100%]='rx | match "never-there"'
)
shares=(0% 1% 10% 50% 100%)
verdicts_hybrid=0; rows=0; verdicts_prefetch=0; cold_rows=0

for segment in warm cold; do
  echo
  echo "$segment capture: ns/packet / bytes copied per packet (median of $runs)"
  printf '%-6s %-5s' size read
  for p in "${policies[@]}"; do printf ' %18s' "$p"; done
  printf '  %s\n' "hybrid vs best"
  for size in 64 512 1500 9000; do
    capture="$work/shadow-$size-${megabytes}M.pcap"
    for share in "${shares[@]}"; do
      declare -A ns=() copied=()
      for p in "${policies[@]}"; do
        samples=()
        for _ in $(seq "$runs"); do
          if [ "$segment" = cold ]; then drop_cache "$capture"; else warm_cache "$capture"; fi
          samples+=("$(run "$p" "${pipelines[$share]}" "$capture" "$size")")
        done
        ns[$p]=$(printf '%s\n' "${samples[@]}" | awk '{print $1}' | median)
        copied[$p]=$(printf '%s\n' "${samples[@]}" | awk '{print $2}' | median)
      done
      printf '%-6s %-5s' "$size" "$share"
      for p in "${policies[@]}"; do printf ' %9.1f / %6.0f' "${ns[$p]}" "${copied[$p]}"; done
      best=$(awk "BEGIN{a=${ns[zero-copy]}; b=${ns[copy-once]}; print (a<b)?a:b}")
      ratio=$(awk "BEGIN{print ${ns[hybrid]}/$best}")
      ok=$(awk "BEGIN{print ($ratio <= 1.05) ? \"ok\" : \"over\"}")
      printf '  %.3fx %s' "$ratio" "$ok"
      rows=$((rows + 1)); [ "$ok" = ok ] && verdicts_hybrid=$((verdicts_hybrid + 1))
      if [ "$segment" = cold ]; then
        cold_rows=$((cold_rows + 1))
        faster=$(awk "BEGIN{print (${ns[prefetch]} < ${ns[copy-once]}) ? 1 : 0}")
        verdicts_prefetch=$((verdicts_prefetch + faster))
        printf '  prefetch %s' "$([ "$faster" = 1 ] && echo faster || echo slower)"
      fi
      echo
    done
  done
done
echo
echo "hybrid within 5% of the better of zero-copy and copy-once: $verdicts_hybrid of $rows rows"
echo "prefetch faster than copy-once on the cold capture: $verdicts_prefetch of $cold_rows rows"

# The crossover sl-replay measures when given a DMA engine (said with -v).
"$replay" -l 0 --vdev=dma_skeleton0,lcore=1 -- -v --dma dma_skeleton0 -e 'rx | count' \
  "$work/shadow-64-${megabytes}M.pcap" 2>&1 >/dev/null | grep '^dma:'
