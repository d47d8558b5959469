#!/usr/bin/env bash
# sl-replay against tcpdump on the same capture, whole process, same session:
#   rx | bpf "tcp port 80" | pcap OUT      vs      tcpdump -r IN -w OUT 'tcp port 80'
# Prints the median of RUNS (default 5) for each, the ratio, the packet rate and
# the read ceiling (cat IN > /dev/null), and checks both outputs hold the same
# packets. Usage: scripts/bench-replay.sh [PACKETS] [RUNS]
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
bytes=$(stat -c %s "$in")


# A one-packet capture measures the fixed cost of each tool: for sl-replay,
# DPDK's start-up (rte_eal_init loads every PMD and, on a VM that exposes no
# TSC frequency, sleeps 100 ms to measure it) and the graph's construction.
one="$work/one.pcap"
tcpdump -r "$in" -c 1 -w "$one" 2>/dev/null

cat "$in" >/dev/null  # warm the page cache for everyone
cat_t=(); sl_t=(); td_t=(); sl0_t=(); td0_t=()
for _ in $(seq "$runs"); do
  cat_t+=("$(seconds cat "$in")")
  sl0_t+=("$(seconds ./build/apps/sl-replay -q -e "rx | bpf \"tcp port 80\" | pcap \"$work/sl-one.pcap\"" "$one")")
  td0_t+=("$(seconds tcpdump -r "$one" -w "$work/tcpdump-one.pcap" 'tcp port 80')")
  # Each timed run creates its output afresh: dropping the last run's 350 MB
  # (truncation waits for its writeback) is not either tool's work.
  rm -f "$work/sl.pcap" "$work/tcpdump.pcap"
  sl_t+=("$(seconds ./build/apps/sl-replay -q -e "rx | bpf \"tcp port 80\" | pcap \"$work/sl.pcap\"" "$in")")
  td_t+=("$(seconds tcpdump -r "$in" -w "$work/tcpdump.pcap" 'tcp port 80')")
done
cat_m=$(printf '%s\n' "${cat_t[@]}" | median)
sl_m=$(printf '%s\n' "${sl_t[@]}" | median)
td_m=$(printf '%s\n' "${td_t[@]}" | median)
sl0_m=$(printf '%s\n' "${sl0_t[@]}" | median)
td0_m=$(printf '%s\n' "${td0_t[@]}" | median)

# Same packets: both rewritten by tcpdump at microsecond precision, then compared.
tcpdump -r "$work/sl.pcap" -w "$work/sl-us.pcap" 2>/dev/null
tcpdump -r "$work/tcpdump.pcap" -w "$work/tcpdump-us.pcap" 2>/dev/null
if cmp -s <(tail -c +25 "$work/sl-us.pcap") <(tail -c +25 "$work/tcpdump-us.pcap"); then same=yes; else same=NO; fi
kept=$(tcpdump -r "$work/tcpdump.pcap" 2>/dev/null | wc -l)

printf 'capture      %s packets, %.0f MB, %s kept by "tcp port 80"\n' "$packets" "$(awk "BEGIN{print $bytes/1e6}")" "$kept"
printf 'read ceiling cat          %8.3f s  %6.2f GB/s\n' "$cat_m" "$(awk "BEGIN{print $bytes/$cat_m/1e9}")"
printf 'tcpdump      -r -w        %8.3f s  %6.2f Mpps\n' "$td_m" "$(awk "BEGIN{print $packets/$td_m/1e6}")"
printf 'sl-replay    bpf | pcap   %8.3f s  %6.2f Mpps\n' "$sl_m" "$(awk "BEGIN{print $packets/$sl_m/1e6}")"
printf 'start-up     1 packet     sl-replay %.3f s, tcpdump %.3f s\n' "$sl0_m" "$td0_m"
# The bars and goals: 2x and 4x on 10M packets, 1.5x and 3x on 3M.
if [ "$packets" -ge 10000000 ]; then bar=2.0 goal=4; else bar=1.5 goal=3; fi
printf 'ratio        sl-replay is %.2fx tcpdump (median of %s runs; bar %sx, goal %sx)\n' \
  "$(awk "BEGIN{print $td_m/$sl_m}")" "$runs" "$bar" "$goal"
printf 'ratio        without start-up: %.2fx\n' "$(awk "BEGIN{print ($td_m-$td0_m)/($sl_m-$sl0_m)}")"
printf 'outputs      same packets: %s\n' "$same"
[ "$same" = yes ]
