#!/usr/bin/env bash
# Soak: sl-forward at full rate for MINUTES (default 30) over virtual ports,
# with a reload every RELOAD seconds (default 5) that rotates three graphs
# between them using every kind of built-in filter: defrag, reassemble,
# stream-match, stream-regex, match, regex, bpf, the classifiers, sample,
# head, count, and pcap and tx sinks.
#   ports:  0 and 1 net_pcap replaying pcap-samples/ forever (infinite_rx):
#           port 0 mixed, fragments and malformed packets, port 1 TCP
#           streams; 2 a net_null that discards what is sent to it
#   lcores: 0 and 1, a worker each
# Every minute it prints resident memory, the mbufs out of their pool, and
# the totals from the telemetry socket: read + made = written + dropped,
# up to what is in flight in the walks at that moment. At the end it stops
# sl-forward with SIGTERM and checks the final figures exactly.
# It fails (exit 1) when:
#   - resident memory grows past what it was after the first two minutes
#     by more than 4 MiB;
#   - a minute's totals leave more packets unaccounted than the walks can
#     hold;
#   - the final totals leave any packet unaccounted, or port rx differs
#     from what the graphs read;
#   - an mbuf is not back in its pool at the end, sl-forward exits non-zero,
#     or a reload is refused or missed.
# Usage: scripts/soak.sh [MINUTES] [RELOAD]
set -euo pipefail
. "$(dirname "$0")/usage.sh"
usage_if_asked "$@"
cd "$(dirname "$0")/.."
minutes=${1:-30}
reload_every=${2:-5}
scripts/setup.sh
scripts/build.sh build
work=build/soak
rm -rf "$work"
mkdir -p "$work"

# The captures each port replays: pcap records of the samples, one after
# another (all Ethernet).
python3 - "$work" <<'EOF'
import struct, sys
work = sys.argv[1]
def records(name):
    d = open('pcap-samples/' + name, 'rb').read()
    assert struct.unpack('<I', d[:4])[0] == 0xa1b2c3d4 and struct.unpack('<I', d[20:24])[0] == 1, name
    out, at = [], 24
    while at + 16 <= len(d):
        captured = struct.unpack('<I', d[at + 8:at + 12])[0]
        out.append(d[at:at + 16 + captured])
        at += 16 + captured
    return out
header = struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1)
for port, names in ((0, ['mixed.pcap', 'fragments.pcap', 'malformed.pcap']), (1, ['streams.pcap'])):
    with open(f'{work}/port{port}.pcap', 'wb') as f:
        f.write(header)
        for n in names:
            for r in records(n):
                f.write(r)
EOF

# Three graphs; a reload switches to the next.
cat >"$work/graph-0.sl" <<'EOF'
a = rx | defrag | reassemble
a | bpf "tcp port 80 or udp" | count | tx 2
m = a | match "GET " "HTTP/1.1" nocase=yes
m |1 count
m |2 pcap "/dev/null"
a | regex "[a-z]+=[0-9]{2,}" | count
a | stream-match "admin" "passwd" keep=flow | count
a | stream-regex "x{3,}y" "^GET /[a-z]*" keep=packet | count
EOF
cat >"$work/graph-1.sl" <<'EOF'
p = rx | ipproto
d = p |6 dport
d |80 count | tx 2
d |else sample 10 | pcap "/dev/null"
p |17 sport
p |else vlan
rx | head 1000 | count
EOF
cat >"$work/graph-2.sl" <<'EOF'
a = rx | defrag | bpf "ip or ip6"
a | reassemble | stream-match "HTTP" keep=packet | tx 2
a | bpf "not tcp" | count | pcap "/dev/null"
EOF
config="$work/graph.sl"
cp "$work/graph-0.sl" "$config"

prefix="sl-soak-$$"
json="$work/soak.json"
./build/apps/sl-forward -l 0,1 --no-huge -m 2048 --no-pci --no-shconf --file-prefix="$prefix" \
  --vdev="net_pcap0,rx_pcap=$work/port0.pcap,infinite_rx=1" \
  --vdev="net_pcap1,rx_pcap=$work/port1.pcap,infinite_rx=1" \
  --vdev=net_null0,no-rx=1 -- -q -c "$config" --mbufs 32767 --stats-json "$json" \
  >"$work/forward.out" 2>"$work/forward.err" &
pid=$!
trap 'kill -9 $pid 2>/dev/null || true' EXIT

# /sl/stats from the telemetry socket, as "key value" lines.
stats() {
  python3 - "$prefix" <<'EOF'
import json, os, socket, sys
path = f"/var/run/dpdk/{sys.argv[1]}/dpdk_telemetry.v2" if os.getuid() == 0 else \
       f"{os.environ.get('XDG_RUNTIME_DIR', '/tmp')}/dpdk/{sys.argv[1]}/dpdk_telemetry.v2"
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.settimeout(5)
s.connect(path)
s.recv(65536)
s.send(b"/sl/stats")
j = json.loads(s.recv(1 << 20))["/sl/stats"]
for k in ("packets_read", "packets_made", "packets_written", "packets_dropped"):
    print(k, j[k])
print("in_use", sum(j["mempool_in_use"]))
EOF
}
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$pid/status"; }
fail() { echo "soak: FAIL: $*"; failed=1; }

# Up to a burst of 256 in each of a few nodes per worker may be between
# the counters of read and of written or dropped, and defrag and
# reassemble may keep 1024 each per worker.
in_flight_bound=$((2 * (4 * 256 + 2 * 1024)))
for _ in $(seq 600); do stats >/dev/null 2>&1 && break; sleep 0.1; done
stats >/dev/null || { cat "$work/forward.err"; exit 1; }

failed=0
start=$(date +%s)
next_reload=$((start + reload_every))
sent=0
baseline=0
graph=0
echo "minute  rss MiB  mbufs out  packets read   made  written      dropped   unaccounted  reloads"
for minute in $(seq "$minutes"); do
  until_minute=$((start + 60 * minute))
  while [ "$(date +%s)" -lt "$until_minute" ]; do
    if [ "$(date +%s)" -ge "$next_reload" ]; then
      graph=$(((graph + 1) % 3))
      cp "$work/graph-$graph.sl" "$config.new"
      mv "$config.new" "$config"
      kill -HUP "$pid"
      sent=$((sent + 1))
      next_reload=$((next_reload + reload_every))
    fi
    kill -0 "$pid" 2>/dev/null || { fail "sl-forward ended early"; cat "$work/forward.err"; exit 1; }
    sleep 0.2
  done
  if ! answer=$(stats); then
    fail "the telemetry socket did not answer at minute $minute"
    continue
  fi
  declare -A s=()
  while read -r k v; do s[$k]=$v; done <<<"$answer"
  rss=$(rss_kib)
  unaccounted=$((s[packets_read] + s[packets_made] - s[packets_written] - s[packets_dropped]))
  reloads=$(grep -c "reloaded" "$work/forward.err" || true)
  printf "%6d  %7.1f  %9d  %12d  %5d  %7d  %11d  %12d  %7d\n" "$minute" "$(awk "BEGIN {print $rss / 1024}")" \
    "${s[in_use]}" "${s[packets_read]}" "${s[packets_made]}" "${s[packets_written]}" "${s[packets_dropped]}" \
    "$unaccounted" "$reloads"
  if [ "$minute" -le 2 ]; then
    [ "$rss" -gt "$baseline" ] && baseline=$rss
  elif [ "$rss" -gt $((baseline + 4096)) ]; then
    fail "resident memory grew from $((baseline / 1024)) MiB to $((rss / 1024)) MiB"
  fi
  if [ "${unaccounted#-}" -gt "$in_flight_bound" ]; then
    fail "$unaccounted packets unaccounted at minute $minute"
  fi
  unset s
done

# A reload takes a moment (Hyperscan compiles): the last one is done
# before the run ends.
for _ in $(seq 300); do
  [ "$(grep -c "reloaded" "$work/forward.err" || true)" -ge "$sent" ] && break
  sleep 0.1
done
kill -TERM "$pid" 2>/dev/null || true
status=0
wait "$pid" || status=$?
trap - EXIT
[ "$status" -eq 0 ] || fail "sl-forward exited $status: $(tail -3 "$work/forward.err")"
reloads=$(grep -c "reloaded" "$work/forward.err" || true)
refused=$(grep -c "reload refused" "$work/forward.err" || true)
[ "$refused" -eq 0 ] || fail "$refused reloads refused"
[ "$reloads" -eq "$sent" ] || fail "$sent SIGHUPs sent, $reloads reloads done"
python3 - "$json" <<'EOF' || failed=1
import json, sys
j = json.load(open(sys.argv[1]))
t = j["totals"]
made, read, written, dropped = t["packets_made"], t["packets_read"], t["packets_written"], t["packets_dropped"]
rx = sum(p["rx_packets"] for p in j["ports"])
lost = sum(p["rx_missed"] + p["rx_no_mbuf"] for p in j["ports"])
out = sum(p["in_use"] for p in j["mempools"])
print(f"final: read {read}, made {made}, written {written}, dropped {dropped}, port rx {rx}, "
      f"port missed or no mbuf {lost}, mbufs out {out}, {read / j['elapsed_s'] / 1e6:.2f} Mpps")
bad = []
if read + made != written + dropped: bad.append(f"{read + made - written - dropped} packets unaccounted")
if rx != read: bad.append(f"ports received {rx}, the graphs read {read}")
if out: bad.append(f"{out} mbufs not back in their pools")
for b in bad: print("soak: FAIL:", b)
sys.exit(1 if bad else 0)
EOF
if [ "$failed" -ne 0 ]; then
  echo "soak: FAILED after $minutes minutes and $sent reloads"
  exit 1
fi
echo "soak: passed: $minutes minutes, $sent reloads, resident memory within 4 MiB of $((baseline / 1024)) MiB"
