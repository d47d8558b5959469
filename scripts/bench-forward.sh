#!/usr/bin/env bash
# sl-forward against DPDK's l2fwd on one lcore, in the same session.
#   sources:  two net_null ports (port 1 receives nothing), and two net_pcap
#             ports, port 0 replaying a real capture forever (infinite_rx)
#   programs: pmd-loop (scripts/pmd-loop.c: rx burst, tx burst, nothing
#             else: what the drivers cost; once with bursts of 32 as l2fwd
#             calls them, once gathering 64 per tx call as sl-forward does
#             by default), l2fwd --no-mac-updating (built
#             from the dpdk-doc sources), sl-forward 'rx 0 | tx 1',
#             sl-forward 'rx 0 | bpf "udp" | tx 1'
# Each run lasts SECONDS (default 3); the figure is the median of RUNS
# (default 5) of the packets received per second on port 0, which is what
# every program polls as fast as it can. Prints Mpps, the ratio to l2fwd
# with the issue's bar and goal, the cycles per packet each program adds
# above pmd-loop with the same call sizes, and sl-forward's cycles per packet
# per node (last run).
# Usage: scripts/bench-forward.sh [RUNS] [SECONDS]
set -euo pipefail
. "$(dirname "$0")/usage.sh"
usage_if_asked "$@"
cd "$(dirname "$0")/.."
runs=${1:-5}
seconds=${2:-3}
scripts/setup.sh dpdk-doc   # l2fwd's source
scripts/build.sh build
. scripts/bench-common.sh

# l2fwd as Debian ships its source.
l2fwd_src=/usr/share/dpdk/examples/l2fwd/main.c
l2fwd="$work/l2fwd"
if [ ! -x "$l2fwd" ] || [ "$l2fwd_src" -nt "$l2fwd" ]; then
  cc -O3 -o "$l2fwd" "$l2fwd_src" $(pkg-config --cflags --libs libdpdk) 2>"$work/l2fwd-build.log"
fi
pmd_loop="$work/pmd-loop"
if [ ! -x "$pmd_loop" ] || [ scripts/pmd-loop.c -nt "$pmd_loop" ]; then
  cc -O3 -o "$pmd_loop" scripts/pmd-loop.c $(pkg-config --cflags --libs libdpdk)
fi
# net_pcap's infinite_rx keeps the whole capture in mbufs: 2,000 packets fit
# l2fwd's pool of 8,192.
capture="$work/forward-2000.pcap"
[ -f "$capture" ] || python3 scripts/gen-bench-capture.py "$capture" 2000

eal() { echo "-l 1 --no-huge -m 512 --no-pci --no-shconf --file-prefix=bench-$$-$RANDOM"; }
ports_null="--vdev=net_null0 --vdev=net_null1,no-rx=1"
ports_pcap="--vdev=net_pcap0,rx_pcap=$capture,infinite_rx=1,tx_pcap=/dev/null --vdev=net_pcap1,tx_pcap=/dev/null"

# l2fwd prints its totals every second; the rate is what port 0 received
# between the first and the last print.
run_l2fwd() {
  local out="$work/l2fwd.out"
  # shellcheck disable=SC2046
  timeout -s INT $((seconds + 1)) "$l2fwd" $(eal) $1 -- -p 0x3 -q 2 --no-mac-updating -T 1 >"$out" 2>&1 || true
  awk '/Statistics for port 0/ {p = 1} p && /Packets received:/ {v[n++] = $3; p = 0}
       END {if (n < 3) {print 0; exit} print (v[n-1] - v[1]) / (n - 2) / 1e6}' "$out"
}

run_sl() {
  local json="$work/forward.json"
  # shellcheck disable=SC2046
  ./build/apps/sl-forward $(eal) $1 -- -e "$2" --duration "$seconds" --mbufs 16383 --stats-json "$json" \
    >"$work/sl-forward.out" 2>&1
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["ports"][0]["rx_packets"]/d["elapsed_s"]/1e6)' "$json"
}

run_pmd_loop() {  # PORTS GATHER
  # shellcheck disable=SC2046
  "$pmd_loop" $(eal) $1 -- "$seconds" "$2" 2>"$work/pmd-loop.err" | tail -1
}

# cycles per packet at a rate in Mpps
cycles() { awk "BEGIN{print $hz / ($1 * 1e6)}"; }
row() {  # SOURCE PROGRAM MPPS BAR GOAL BASELINE-MPPS
  printf '%-9s %-34s %8.2f %8.2fx %6s %6s %8.1f\n' "$1" "$2" "$3" "$(awk "BEGIN{print $3/$l2_m}")" "$4" "$5" \
    "$(awk "BEGIN{print $(cycles "$3") - $(cycles "$6")}")"
}

printf '%-9s %-34s %8s %9s %6s %6s %8s\n' source program Mpps "vs l2fwd" bar goal "+cycles"
for source in null pcap; do
  ports_var="ports_$source"
  ports=${!ports_var}
  bare=(); gathered=(); l2=(); pass=(); filt=()
  for _ in $(seq "$runs"); do
    read -r rate hz < <(run_pmd_loop "$ports" 32)
    bare+=("$rate")
    read -r rate hz < <(run_pmd_loop "$ports" 64)
    gathered+=("$rate")
    l2+=("$(run_l2fwd "$ports")")
    pass+=("$(run_sl "$ports" 'rx 0 | tx 1')")
    filt+=("$(run_sl "$ports" 'rx 0 | bpf "udp" | tx 1')")
  done
  bare_m=$(printf '%s\n' "${bare[@]}" | median)
  gathered_m=$(printf '%s\n' "${gathered[@]}" | median)
  l2_m=$(printf '%s\n' "${l2[@]}" | median)
  pass_m=$(printf '%s\n' "${pass[@]}" | median)
  filt_m=$(printf '%s\n' "${filt[@]}" | median)
  if [ "$source" = null ]; then pass_bar=(0.8x 0.95x); filt_bar=(0.6x 0.8x); else pass_bar=(1.0x 1.2x); filt_bar=("" ""); fi
  row "net_$source" "pmd-loop (rx burst, tx burst)" "$bare_m" "" "" "$bare_m"
  row "net_$source" "pmd-loop, 64 per tx call" "$gathered_m" "" "" "$gathered_m"
  row "net_$source" "l2fwd --no-mac-updating" "$l2_m" "" "" "$bare_m"
  row "net_$source" "sl-forward rx 0 | tx 1" "$pass_m" "${pass_bar[@]}" "$gathered_m"
  row "net_$source" 'sl-forward rx 0 | bpf "udp" | tx 1' "$filt_m" "${filt_bar[@]}" "$gathered_m"
  printf '  framework cycles per packet above the drivers, pass-through: %.1f (bar <= 15, goal <= 10; %s Hz TSC)\n' \
    "$(awk "BEGIN{print $(cycles "$pass_m") - $(cycles "$gathered_m")}")" "$hz"
  echo "  cycles per packet in the last bpf run:"
  awk '/^node/ {p = 1; next} p && NF == 0 {exit} p {printf "    %-10s %8s\n", $1, $NF}' "$work/sl-forward.out"
done
echo "(median of $runs runs of $seconds s, one lcore each; +cycles: cycles per packet above pmd-loop with"
echo " the same call sizes: bursts of 32 for l2fwd, 64 per tx call for sl-forward's default --gather)"
